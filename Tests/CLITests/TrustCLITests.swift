import Foundation
import Testing
import VEMTrust

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

    @Test func caInitAndIssueWriteOwnerOnlyKeysAndPrintNone() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("ca").path
        func mode(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        let created = try await runVEM(["ca", "init", "--dir", ca])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(mode(ca + "/ca.key") == 0o600)
        let again = try await runVEM(["ca", "init", "--dir", ca])
        #expect(again.status != 0 && again.stderr.contains("already holds a CA"), "\(again.stderr)")
        let guest = try await runVEM(["ca", "issue", "vm-1", "--role", "domU", "--group", "atlas", "--dir", ca])
        #expect(guest.status == 0, "\(guest.stderr)")
        #expect(guest.stdout.contains("vm-1 (domU, group atlas"), "\(guest.stdout)")
        #expect(mode(ca + "/vm-1.key") == 0o600)
        for output in [created, guest] {
            #expect(!output.stdout.contains("PRIVATE KEY") && !output.stderr.contains("PRIVATE KEY"))
        }
        let groupless = try await runVEM(["ca", "issue", "vm-2", "--role", "domU", "--dir", ca])
        #expect(groupless.status != 0 && groupless.stderr.contains("needs --group"), "\(groupless.stderr)")
        let badRole = try await runVEM(["ca", "issue", "x", "--role", "root", "--dir", ca])
        #expect(badRole.status != 0)
        let revoked = try await runVEM(["ca", "revoke", "vm-1", "--dir", ca])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect((try String(contentsOfFile: ca + "/revoked", encoding: .utf8)).split(separator: "\n").count == 1)
        // The Manager's issuing intermediate for VM credentials.
        let issuer = try await runVEM(["ca", "issuer", "--dir", ca])
        #expect(issuer.status == 0, "\(issuer.stderr)")
        #expect(issuer.stdout.contains("manager-issuer"), "\(issuer.stdout)")
        #expect(mode(ca + "/manager-issuer.key") == 0o600)
        #expect(!issuer.stdout.contains("PRIVATE KEY") && !issuer.stderr.contains("PRIVATE KEY"))
        let loaded = try VMCredentialIssuer(
            certificatePEM: try String(contentsOfFile: ca + "/manager-issuer.pem", encoding: .utf8),
            keyPEM: try String(contentsOfFile: ca + "/manager-issuer.key", encoding: .utf8),
            siteCAPEM: try String(contentsOfFile: ca + "/ca.pem", encoding: .utf8))
        #expect(!loaded.isSiteCA)
    }
}
