import Crypto
import Foundation
import Testing
import X509

@testable import VEMTrust

/// The Manager's per-VM credentials: issued below the site CA by an issuing intermediate (or the CA itself),
/// valid for a short lifetime, carried as one SMBIOS OEM string, and revoked live.
struct VMCredentialTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func chainIsValid(_ credential: VMCredential, root: Certificate, at time: Date) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore([root])) {
            RFC5280Policy(validationTime: time)
        }
        let result = await verifier.validate(
            leafCertificate: credential.certificate, intermediates: CertificateStore(credential.intermediates))
        if case .validCertificate = result { return true }
        return false
    }

    @Test func anIntermediateIssuesAShortLivedGuestCredentialThatChainsToTheSiteCA() async throws {
        let ca = try SiteCA.create(now: now)
        let intermediate = try ca.createIssuer(name: "manager-issuer", now: now)
        let issuer = try VMCredentialIssuer(
            certificatePEM: try intermediate.certificatePEM, keyPEM: intermediate.keyPEM,
            siteCAPEM: try ca.certificatePEM)
        #expect(!issuer.isSiteCA)
        let credential = try issuer.issue(vm: "atlas-vm-3", group: "atlas", lifetime: 3_600, now: now)
        #expect(credential.identity.name == "atlas-vm-3")
        #expect(credential.identity.role == .domU && credential.identity.group == "atlas")
        #expect(credential.identity.issuer == intermediate.certificate.subject.description)
        #expect(credential.identity.issuer != ca.certificate.subject.description)
        #expect(credential.notAfter == now.addingTimeInterval(3_600))
        #expect(credential.intermediates == [intermediate.certificate])
        #expect(await chainIsValid(credential, root: ca.certificate, at: now.addingTimeInterval(60)))
        // Short-lived: refused after its lifetime; and not below another CA.
        #expect(!(await chainIsValid(credential, root: ca.certificate, at: now.addingTimeInterval(3_700))))
        #expect(!(await chainIsValid(credential, root: try SiteCA.create(now: now).certificate, at: now)))
        // Two VMs, two keys and serials.
        let other = try issuer.issue(vm: "atlas-vm-4", group: "atlas", lifetime: 3_600, now: now)
        #expect(other.identity.serial != credential.identity.serial)
        #expect(other.key.rawRepresentation != credential.key.rawRepresentation)
    }

    @Test func theSiteCAItselfMayIssueWithoutAnIntermediate() async throws {
        let ca = try SiteCA.create(now: now)
        let issuer = try VMCredentialIssuer(
            certificatePEM: try ca.certificatePEM, keyPEM: ca.keyPEM, siteCAPEM: try ca.certificatePEM)
        #expect(issuer.isSiteCA)
        let credential = try issuer.issue(vm: "vm1", group: "g", lifetime: 600, now: now)
        #expect(credential.intermediates.isEmpty)
        #expect(await chainIsValid(credential, root: ca.certificate, at: now))
    }

    @Test func anIssuerNotBelowTheSiteCAIsRefused() throws {
        let ca = try SiteCA.create(now: now)
        let foreign = try SiteCA.create(commonName: "VEM site CA", now: now).createIssuer(name: "manager-issuer", now: now)
        #expect(throws: TrustError.self) {
            try VMCredentialIssuer(
                certificatePEM: try foreign.certificatePEM, keyPEM: foreign.keyPEM, siteCAPEM: try ca.certificatePEM)
        }
        // An end certificate is no issuer.
        let leaf = try ca.issue(name: "host1", role: .dom0)
        #expect(throws: TrustError.self) {
            try VMCredentialIssuer(
                certificatePEM: leaf.certificatePEM, keyPEM: leaf.keyPEM, siteCAPEM: try ca.certificatePEM)
        }
    }

    @Test func aCAWithPathLengthZeroCannotHaveAnIntermediate() throws {
        // What `vem ca init` made before intermediates existed.
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("old CA") }
        let old = try Certificate(
            version: .v3, serialNumber: SiteCA.randomSerial(), publicKey: Certificate.PrivateKey(key).publicKey,
            notValidBefore: now, notValidAfter: now.addingTimeInterval(86_400), issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            }, issuerPrivateKey: Certificate.PrivateKey(key))
        #expect(throws: TrustError.self) { try SiteCA(certificate: old, key: key).createIssuer(name: "i") }
    }

    @Test func theOEMStringCarriesEverythingAndReadsBack() throws {
        let ca = try SiteCA.create(now: now)
        let intermediate = try ca.createIssuer(name: "manager-issuer", now: now)
        let issuer = try VMCredentialIssuer(
            certificatePEM: try intermediate.certificatePEM, keyPEM: intermediate.keyPEM,
            siteCAPEM: try ca.certificatePEM)
        let credential = try issuer.issue(vm: "atlas-vm-3", group: "atlas", lifetime: 3_600, now: now)
        let text = try credential.oemString
        #expect(text.hasPrefix("vem-credential-v1:"))
        // Nothing XML, a shell or QEMU's option parser (',') reads specially; no white space; about 2 KB.
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=.:-")
        #expect(text.allSatisfy { allowed.contains($0) })
        #expect(text.utf8.count < 4_096)
        let back = try VMCredential(oemString: text)
        #expect(back.identity == credential.identity)
        #expect(back.certificate == credential.certificate && back.siteCA == ca.certificate)
        #expect(back.intermediates == [intermediate.certificate])
        #expect(back.key.rawRepresentation == credential.key.rawRepresentation)
        let pem = try back.pem()
        #expect(pem.chain.components(separatedBy: "BEGIN CERTIFICATE").count == 3)
        #expect(pem.key.contains("PRIVATE KEY"))
        // The description never shows the key.
        let keyText = Data(credential.key.rawRepresentation).base64EncodedString()
        #expect(!"\(credential)".contains(keyText) && !"\(credential)".contains("PRIVATE"))
    }

    @Test func aMalformedCredentialIsRefusedWithoutEchoingIt() throws {
        for text in ["", "vem-credential-v1:", "vem-credential-v1:AAAA.BBBB", "vem-credential-v1:!!.AA.AA", "hello"] {
            do {
                _ = try VMCredential(oemString: text)
                Issue.record("accepted \(text)")
            } catch let error as TrustError {
                if text.count > 20 { #expect(!"\(error)".contains(text)) }
            }
        }
        // A key that does not belong to the certificate.
        let ca = try SiteCA.create(now: now)
        let issuer = try VMCredentialIssuer(
            certificatePEM: try ca.certificatePEM, keyPEM: ca.keyPEM, siteCAPEM: try ca.certificatePEM)
        var parts = try issuer.issue(vm: "vm1", group: "g", lifetime: 600, now: now).oemString.split(separator: ".")
        let firstColon = parts[0].firstIndex(of: ":")!
        parts[0] = parts[0][...firstColon] + Substring(Data(P256.Signing.PrivateKey().rawRepresentation).base64EncodedString())
        #expect(throws: TrustError.self) { try VMCredential(oemString: parts.joined(separator: ".")) }
    }

    @Test func revocationIsLiveAndTheFilesSerialsAreReplacedOnReload() {
        let list = RevocationList(serials: ["aa"])
        #expect(list.contains("aa") && !list.contains("bb"))
        list.revoke("bb", until: now.addingTimeInterval(60), now: now)
        #expect(list.contains("bb"))
        list.replaceFileSerials(["cc"])
        #expect(!list.contains("aa") && list.contains("cc") && list.contains("bb"))
        // An expired one is dropped (the handshake refuses it anyway) when the next is revoked.
        list.revoke("dd", until: now.addingTimeInterval(7_200), now: now.addingTimeInterval(3_600))
        #expect(!list.contains("bb") && list.contains("dd"))
        #expect(list.serials == ["cc", "dd"])
    }
}
