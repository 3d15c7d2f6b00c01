import Foundation
import Testing
import X509

@testable import VEMTrust

/// The site CA: what `vem ca init` and `vem ca issue` write, and what the hub reads back from a certificate.
struct SiteCATests {
    func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vem-ca-\(UUID().uuidString)").path
        return path
    }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func issuedCertificatesCarryNameRoleAndGroup() throws {
        let ca = try SiteCA.create()
        let guest = try ca.issue(name: "atlas-vm-12", role: .domU, group: "atlas")
        let parsed = try CertificateIdentity(certificate: try Certificate(pemEncoded: guest.certificatePEM))
        #expect(parsed.name == "atlas-vm-12")
        #expect(parsed.role == .domU)
        #expect(parsed.group == "atlas")
        #expect(parsed == guest.identity)
        let host = try ca.issue(name: "host07", role: .dom0)
        let hostIdentity = try CertificateIdentity(certificate: try Certificate(pemEncoded: host.certificatePEM))
        #expect(hostIdentity.role == .dom0 && hostIdentity.group == nil)
        #expect(hostIdentity.serial != parsed.serial)
    }

    @Test func theCASignsWhatItIssuesAndNothingElse() throws {
        let ca = try SiteCA.create()
        let other = try SiteCA.create(commonName: "another CA")
        let issued = try Certificate(pemEncoded: try ca.issue(name: "host1", role: .dom0).certificatePEM)
        #expect(ca.certificate.publicKey.isValidSignature(issued.signature, for: issued))
        #expect(!other.certificate.publicKey.isValidSignature(issued.signature, for: issued))
        #expect(issued.issuer == ca.certificate.subject)
    }

    @Test func namesThatAreNotHostNameWordsAreRefused() throws {
        let ca = try SiteCA.create()
        #expect(throws: TrustError.self) { try ca.issue(name: "evil:2222/system?x=", role: .dom0) }
        #expect(throws: TrustError.self) { try ca.issue(name: "a\nb", role: .dom0) }
        #expect(throws: TrustError.self) { try ca.issue(name: "vm", role: .domU, group: "at las") }
        #expect(throws: TrustError.self) { try ca.issue(name: "manager", role: .manager, hosts: ["a b"]) }
    }

    @Test func keysAreWrittenOwnerOnlyAndNeverIntoCertificates() throws {
        let path = try scratch()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = SiteCADirectory(path: path)
        try directory.initialize()
        #expect(mode(directory.keyPath) == 0o600)
        #expect(mode(path) == 0o700)
        #expect(throws: TrustError.self) { try directory.initialize() }  // a second init never replaces the CA
        let issued = try directory.issue(name: "manager", role: .manager, hosts: ["127.0.0.1", "mgr.example.org"])
        #expect(mode(issued.key) == 0o600)
        let key = try String(contentsOfFile: issued.key, encoding: .utf8)
        let certificate = try String(contentsOfFile: issued.certificate, encoding: .utf8)
        #expect(key.contains("PRIVATE KEY") && !certificate.contains("PRIVATE KEY"))
        let names = try #require(try Certificate(pemEncoded: certificate).extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("mgr.example.org")))
        #expect(names.contains(.uniformResourceIdentifier("vem:role/manager")))
        #expect(names.contains { if case .ipAddress(let a) = $0 { Array(a.bytes) == [127, 0, 0, 1] } else { false } })
        // The CA comes back from its files.
        let loaded = try directory.load()
        #expect(loaded.certificate == (try directory.load()).certificate)
    }

    @Test func revocationListsTheSerial() throws {
        let path = try scratch()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = SiteCADirectory(path: path)
        try directory.initialize()
        let issued = try directory.issue(name: "host1", role: .dom0)
        let serial = try directory.revoke("host1")
        #expect(serial == issued.identity.serial)
        _ = try directory.revoke("host1")  // once only
        let text = try String(contentsOfFile: directory.revokedPath, encoding: .utf8)
        #expect(SiteCADirectory.revokedSerials(in: text) == [serial])
        #expect(text.split(separator: "\n").count == 1)
        #expect(SiteCADirectory.revokedSerials(in: "# old\nABCD # host9\n\n") == ["abcd"])
        #expect(throws: TrustError.self) { try directory.revoke("no-such-host") }
    }
}
