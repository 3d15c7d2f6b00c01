import Foundation
import Testing

/// The small defects an admin's first walk-through hit (issue 20), each checked on the real `vem` binary.
@Suite struct OperatorDefectsTests {
    @Test func theDefaultManagerURLIsThePortOfTheExampleSite() async throws {
        let site = try String(contentsOf: packageRoot.appendingPathComponent("examples/site.ini"), encoding: .utf8)
        let listen = try #require(
            site.split(separator: "\n").first { $0.hasPrefix("http_listen") }?.split(separator: "=").last)
        let address = listen.trimmingCharacters(in: .whitespaces)
        for command in ["status", "clients", "props", "explain", "vms"] {
            let help = try await runVEM([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("http://\(address)"), "\(command): \(help.stdout)")
        }
    }

    @Test func aManagerURLWithoutSchemeIsTakenAsHTTP() async throws {
        let out = try await runVEM(["status", "--manager-url", "127.0.0.1:1"])
        #expect(out.status == 1)
        #expect(out.stderr.contains("cannot reach the Manager at http://127.0.0.1:1"), "\(out.stderr)")
        #expect(!out.stderr.contains("invalid"))
    }

    @Test func aManagerURLOfAnotherSchemeSaysWhatIsExpected() async throws {
        let out = try await runVEM(["status", "--manager-url", "ftp://127.0.0.1:1"])
        #expect(out.status == 1)
        #expect(
            out.stderr.contains("invalid --manager-url ftp://127.0.0.1:1: expected http://HOST:PORT"), "\(out.stderr)")
    }

    @Test func anExpressionStartingWithMinusIsNotAnOption() async throws {
        let out = try await runVEM(["eval", "-7 // 2"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout == "-4\n")
        let withOption = try await runVEM(["eval", "--json", "-7 // 2"])
        #expect(withOption.status == 0, "\(withOption.stderr)")
        #expect(withOption.stdout == "-4\n")
        let missing = try await runVEM(["eval"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("expression"))
    }

    @Test func versionPrintsTheSoftwareAndWireVersions() async throws {
        let out = try await runVEM(["--version"])
        #expect(out.status == 0)
        #expect(out.stdout.hasPrefix("vem 1."), "\(out.stdout)")
        #expect(out.stdout.contains("wire format 2"))
    }
}
