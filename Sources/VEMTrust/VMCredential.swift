import Crypto
import SwiftASN1
import X509

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// A guest's identity, issued by the Manager at `vm.create` for that VM alone: a short-lived certificate (its
/// name the VM's, role `domU`, its group), its key, the chain up to the site CA, and the site CA itself (which the
/// guest checks the Manager against). It travels to the guest in the domain as one SMBIOS OEM string
/// (``oemString``) and is read back there (``init(oemString:)``).
///
/// Its text is a secret: ``description`` never shows the key, and nothing prints ``oemString``.
public struct VMCredential: Sendable, CustomStringConvertible {
    /// The OEM string's prefix (and its format's version).
    public static let prefix = "vem-credential-v1:"

    /// The guest's certificate.
    public let certificate: Certificate
    /// The certificates between it and the site CA (the Manager's issuing intermediate; empty when the site CA
    /// signed it itself).
    public let intermediates: [Certificate]
    /// The site CA's certificate.
    public let siteCA: Certificate
    let key: P256.Signing.PrivateKey
    /// Who the certificate names.
    public let identity: CertificateIdentity

    init(certificate: Certificate, intermediates: [Certificate], siteCA: Certificate, key: P256.Signing.PrivateKey)
        throws
    {
        self.certificate = certificate
        self.intermediates = intermediates
        self.siteCA = siteCA
        self.key = key
        identity = try CertificateIdentity(certificate: certificate)
        guard certificate.publicKey == Certificate.PrivateKey(key).publicKey else {
            throw TrustError("the credential's key does not belong to its certificate")
        }
    }

    /// When the certificate stops being valid.
    public var notAfter: Date { certificate.notValidAfter }

    /// `VM credential for NAME (domU, group G, serial S)`: never the key.
    public var description: String { "VM credential for \(identity)" }

    /// The SMBIOS OEM string: ``prefix`` then, separated by `.`, the key (32 raw bytes) and the DER of the
    /// certificate, the site CA and each intermediate, each in base64 (letters, digits, `+`, `/`, `=`: nothing
    /// XML or QEMU's option parser would read specially). About 2 KB.
    public var oemString: String {
        get throws {
            let parts = [Array(key.rawRepresentation)] + (try ([certificate, siteCA] + intermediates).map(Self.der))
            return Self.prefix + parts.map { Data($0).base64EncodedString() }.joined(separator: ".")
        }
    }

    /// Reads a credential from its OEM string.
    /// - Throws: ``TrustError`` when the text is not one (without repeating it: it may hold a key).
    public init(oemString text: String) throws {
        guard text.hasPrefix(Self.prefix) else { throw TrustError("not a VEM credential (no \(Self.prefix) prefix)") }
        let parts = text.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.count <= 4 else {
            throw TrustError("malformed VEM credential: \(parts.count) parts, expected 3 or 4")
        }
        var blobs: [[UInt8]] = []
        for (index, part) in parts.enumerated() {
            guard let data = Data(base64Encoded: String(part)) else {
                throw TrustError("malformed VEM credential: part \(index + 1) is not base64")
            }
            blobs.append([UInt8](data))
        }
        do {
            let key = try P256.Signing.PrivateKey(rawRepresentation: blobs[0])
            let certificates = try blobs.dropFirst().map { try Certificate(derEncoded: $0) }
            try self.init(
                certificate: certificates[0], intermediates: Array(certificates.dropFirst(2)), siteCA: certificates[1],
                key: key)
        } catch let error as TrustError {
            throw error
        } catch {
            throw TrustError("malformed VEM credential: \(error)")
        }
    }

    /// The three PEM texts a TLS endpoint loads: its chain (the certificate, then the intermediates), its key and
    /// the site CA.
    public func pem() throws -> (chain: String, key: String, ca: String) {
        let chain = try ([certificate] + intermediates).map { try $0.serializeAsPEM().pemString }
        return (chain.joined(separator: "\n") + "\n", key.pemRepresentation, try siteCA.serializeAsPEM().pemString)
    }

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}

/// What the Manager holds to issue VM credentials: a CA that may sign them (the issuing intermediate made by
/// `vem ca issuer`, or the site CA itself) and the site CA's certificate.
public struct VMCredentialIssuer: Sendable {
    /// The signing CA.
    public let issuer: SiteCA
    /// The site CA's certificate.
    public let siteCA: Certificate

    /// The issuer of a certificate and key (PEM) below the site CA's certificate (PEM).
    /// - Throws: ``TrustError`` when a text cannot be read, the key does not belong to the certificate, or the
    ///   certificate is neither the site CA nor a CA it signed.
    public init(certificatePEM: String, keyPEM: String, siteCAPEM: String) throws {
        issuer = try SiteCA(certificatePEM: certificatePEM, keyPEM: keyPEM)
        do { siteCA = try Certificate(pemEncoded: siteCAPEM) } catch {
            throw TrustError("cannot read the site CA certificate: \(error)")
        }
        guard issuer.certificate == siteCA || siteCA.publicKey.isValidSignature(issuer.certificate.signature, for: issuer.certificate),
            issuer.certificate.issuer == siteCA.subject
        else {
            throw TrustError("the issuer's certificate was not signed by the site CA (tls_ca)")
        }
        guard case .isCertificateAuthority? = try? issuer.certificate.extensions.basicConstraints else {
            throw TrustError("the issuer's certificate is no CA certificate: make one with `vem ca issuer`")
        }
    }

    /// Whether the site CA signs the credentials itself (no intermediate).
    public var isSiteCA: Bool { issuer.certificate == siteCA }

    /// Issues the credential of one VM: its name, group, role `domU`, valid for `lifetime` seconds from `now`
    /// (and a minute before, against clock skew).
    /// - Throws: ``TrustError`` for a VM name or group that is not a host-name word.
    public func issue(vm: String, group: String, lifetime: TimeInterval, now: Date = Date()) throws -> VMCredential {
        let made = try issuer.issueCertificate(name: vm, role: .domU, group: group, hosts: [], lifetime: lifetime, now: now)
        return try VMCredential(
            certificate: made.certificate, intermediates: isSiteCA ? [] : [issuer.certificate], siteCA: siteCA,
            key: made.key)
    }
}
