import Foundation
import Testing

/// What the command line must never print or write (issue 17): secrets in `check-config --json`, unescaped
/// names in `vem nats-config`.
@Suite struct TrustCLITests {
    @Test func checkConfigJSONNeverPrintsAnInlineToken() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("agent.ini")
        try "[client]\nname = h1\ntoken = s3cret-inline-token\n".write(to: file, atomically: true, encoding: .utf8)
        let out = try await runVEM(["check-config", "--json", file.path])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(!out.stdout.contains("s3cret-inline-token") && !out.stderr.contains("s3cret-inline-token"))
        #expect(out.stdout.contains("(redacted)"))
    }

    @Test func natsConfigRefusesNamesThatWouldNeedEscaping() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = dir.appendingPathComponent("clients.txt")
        for bad in [#"evil",password:"x"#, "a}b", "$HOME", #"back\slash"#] {
            try "host01\n\(bad) atlas\n".write(to: list, atomically: true, encoding: .utf8)
            let out = try await runVEM(["nats-config", "--clients", list.path, "--site", "s"])
            #expect(out.status != 0, "\(bad): \(out.stdout)")
            #expect(!out.stdout.contains(bad), "\(bad)")
            #expect(out.stderr.contains("letters, digits, '-' and '_' only"), "\(out.stderr)")
        }
        try "host01\nvm_7 atlas\n".write(to: list, atomically: true, encoding: .utf8)
        let ok = try await runVEM(["nats-config", "--clients", list.path, "--site", "s"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains(#"user: "vm_7""#))
    }
}
