import Foundation
import VEMConfig
import VEMCore

/// Loads one in-memory file named `t.ini`.
func load(_ text: String, name: String = "t.ini") -> LoadResult {
    ConfigLoader.load([ConfigSource(name: name, text: text)])
}

/// Loads and renders the diagnostics of sources, as the CLI would print them.
func rendered(_ sources: [ConfigSource]) -> String {
    let result = ConfigLoader.load(sources)
    var renderer = DiagnosticRenderer()
    renderer.addConfigSources(sources)
    return renderer.render(result.diagnostics)
}

/// The messages of a result's diagnostics of one severity.
func messages(_ result: LoadResult, _ severity: Severity = .error) -> [String] {
    result.diagnostics.filter { $0.severity == severity }.map(\.message)
}

/// Paths in the source tree (examples live outside the test bundle).
enum SourceTree {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let root = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    static let examples = root.appendingPathComponent("examples")
    static let brokenFixtures = testsDirectory.appendingPathComponent("Fixtures/broken")

    static func example(_ name: String) throws -> ConfigSource {
        let data = try Data(contentsOf: examples.appendingPathComponent(name))
        return ConfigSource(name: name, bytes: Array(data))
    }
}
