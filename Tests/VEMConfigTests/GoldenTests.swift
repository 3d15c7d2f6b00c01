import Foundation
import Testing
import VEMConfig
import VEMCore

/// Golden tests: each `Fixtures/broken/NN-what.ini` is loaded alone (under its bare file name) and
/// its rendered diagnostics must equal `NN-what.expected`.
///
/// Regenerate with `VEM_UPDATE_GOLDEN=1 swift test --filter GoldenTests`, then read the diffs
/// (`git diff`), and build again before checking: the bundle holds a copy made at build time.
@Suite struct GoldenTests {
    static var brokenDirectory: URL? {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)?.appendingPathComponent("broken")
    }

    static var fixtureNames: [String] {
        guard let directory = brokenDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".ini") }.sorted()
    }

    @Test func thereAreAtLeastThirtyBrokenFixtures() {
        #expect(Self.fixtureNames.count >= 30)
    }

    @Test(arguments: GoldenTests.fixtureNames)
    func brokenFileRendersAsExpected(_ name: String) throws {
        let directory = try #require(Self.brokenDirectory)
        let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
        let sources = [ConfigSource(name: name, bytes: bytes)]
        let result = ConfigLoader.load(sources)
        #expect(!result.diagnostics.isEmpty, "a broken fixture must produce diagnostics")
        #expect((result.configuration == nil) == result.hasErrors)
        let actual = rendered(sources) + "\n"
        let expectedName = String(name.dropLast(4)) + ".expected"
        if ProcessInfo.processInfo.environment["VEM_UPDATE_GOLDEN"] == "1" {
            try actual.write(
                to: SourceTree.brokenFixtures.appendingPathComponent(expectedName), atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: directory.appendingPathComponent(expectedName), encoding: .utf8)
        #expect(actual == expected)
    }
}
