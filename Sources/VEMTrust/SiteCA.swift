import Crypto
import SwiftASN1
import VEMCore
import X509

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The site's certificate authority: a P-256 key and a self-signed certificate that every Client and the Manager
/// trust. It issues the certificates that name a holder, its role and its group (``CertificateIdentity``):
/// the subject's common name is the holder's name, and the SAN URIs `vem:role/<role>` and `vem:group/<group>`
/// carry the rest. Pure: files are read and written by ``SiteCADirectory``.
public struct SiteCA: Sendable {
    /// The CA's certificate.
    public let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// The certificate, PEM-encoded (safe to publish).
    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// The private key, PEM-encoded (PKCS #8). Never print it; write it to a 0600 file only.
    var keyPEM: String { key.pemRepresentation }

    /// Creates a new CA (a fresh key) valid from `now` for `days`.
    /// - Parameters:
    ///   - commonName: The CA's name (`VEM site CA`).
    ///   - days: How long the CA is valid. Default 3,650.
    ///   - now: The start of validity (a minute earlier, against clock skew).
    public static func create(commonName: String = "VEM site CA", days: Int = 3_650, now: Date = Date()) throws
        -> SiteCA
    {
        let key = P256.Signing.PrivateKey()
        let signer = Certificate.PrivateKey(key)
        let name = try DistinguishedName {
            OrganizationName("VEM")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            // One intermediate below it: the Manager's issuing CA for VM credentials (`vem ca issuer`).
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 1))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: randomSerial(), publicKey: signer.publicKey,
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(Double(days) * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: signer)
        return SiteCA(certificate: certificate, key: key)
    }

    /// The CA of a certificate and its key (both PEM).
    /// - Throws: ``TrustError`` when either cannot be read or they do not belong together.
    public init(certificatePEM: String, keyPEM: String) throws {
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
            key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        } catch {
            throw TrustError("cannot read the CA certificate or key: \(error)")
        }
        guard certificate.publicKey == Certificate.PrivateKey(key).publicKey else {
            throw TrustError("the CA key does not belong to the CA certificate")
        }
    }

    init(certificate: Certificate, key: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// A certificate and its new key for one holder.
    public struct Issued: Sendable {
        /// The certificate, PEM.
        public var certificatePEM: String
        /// The private key, PEM (PKCS #8). Never print it; write it to a 0600 file only.
        public var keyPEM: String
        /// Who the certificate names.
        public var identity: CertificateIdentity
    }

    /// Issues a certificate (with a fresh key) for `name` in `role`.
    /// - Parameters:
    ///   - name: The holder's name: its Client name, or the Manager's. A host-name word.
    ///   - role: What the holder may be.
    ///   - group: The guest's group (`--group`), nil for the others.
    ///   - hosts: Further names (DNS names or IP addresses) the holder answers to as a server: the Manager's
    ///     address as Clients dial it (`127.0.0.1`, `manager.example.org`). The name itself is always included.
    ///   - days: Validity. Default 365.
    ///   - lifetime: Validity in seconds, instead of `days` (the Manager's short-lived VM credentials).
    ///   - now: The start of validity (a minute earlier, against clock skew).
    /// - Throws: ``TrustError`` for a name or group that is not a host-name word, or a host that is neither a
    ///   DNS name nor an IP address.
    public func issue(
        name: String, role: TrustRole, group: String? = nil, hosts: [String] = [], days: Int = 365,
        lifetime: TimeInterval? = nil, now: Date = Date()
    ) throws -> Issued {
        try issueCertificate(
            name: name, role: role, group: group, hosts: hosts, lifetime: lifetime ?? Double(days) * 86_400, now: now
        ).issued
    }

    /// ``issue(name:role:group:hosts:days:lifetime:now:)``, with the certificate and key as values.
    func issueCertificate(
        name: String, role: TrustRole, group: String?, hosts: [String], lifetime: TimeInterval, now: Date
    ) throws -> (issued: Issued, certificate: Certificate, key: P256.Signing.PrivateKey) {
        guard Self.isWord(name) else {
            throw TrustError("the name must be 1 to 253 letters, digits, '.', '-' or '_'")
        }
        if let group, !Self.isWord(group) {
            throw TrustError("the group must be 1 to 253 letters, digits, '.', '-' or '_'")
        }
        var alternativeNames: [GeneralName] = [.dnsName(name)]
        for host in hosts where host != name {
            if let address = Self.ipAddressBytes(host) {
                alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: address[...])))
            } else if Self.isWord(host) {
                alternativeNames.append(.dnsName(host))
            } else {
                throw TrustError("--host \(host.debugDescription) is neither a DNS name nor an IP address")
            }
        }
        alternativeNames.append(.uniformResourceIdentifier(CertificateIdentity.rolePrefix + role.rawValue))
        if let group { alternativeNames.append(.uniformResourceIdentifier(CertificateIdentity.groupPrefix + group)) }
        let holderKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("VEM")
            OrganizationalUnitName(role.rawValue)
            CommonName(name)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectAlternativeNames(alternativeNames)
        }
        let serial = Self.randomSerial()
        let certificate = try Certificate(
            version: .v3, serialNumber: serial, publicKey: Certificate.PrivateKey(holderKey).publicKey,
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: self.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key))
        let issued = Issued(
            certificatePEM: try certificate.serializeAsPEM().pemString, keyPEM: holderKey.pemRepresentation,
            identity: try CertificateIdentity(certificate: certificate))
        return (issued, certificate, holderKey)
    }

    /// Creates an issuing intermediate CA below this one (`vem ca issuer`): the key the Manager holds to sign VM
    /// credentials, so that the site CA's own key never needs to be on the Manager. It may sign end certificates
    /// only (path length 0), and the hub accepts only guest (`domU`) certificates below it.
    /// - Parameters:
    ///   - name: Its common name (a host-name word, `manager-issuer`).
    ///   - days: Validity. Default 365.
    ///   - now: The start of validity (a minute earlier, against clock skew).
    /// - Throws: ``TrustError`` for a name that is not a host-name word, or when this CA may have no intermediate
    ///   (one made before intermediates existed has path length 0: use its own key instead, or make a new CA).
    public func createIssuer(name: String, days: Int = 365, now: Date = Date()) throws -> SiteCA {
        guard Self.isWord(name) else {
            throw TrustError("the name must be 1 to 253 letters, digits, '.', '-' or '_'")
        }
        if let constraints = try? certificate.extensions.basicConstraints,
            case .isCertificateAuthority(let maxPathLength) = constraints, maxPathLength == 0
        {
            throw TrustError(
                "this site CA allows no intermediate (path length 0): make a new CA with `vem ca init`, or give "
                    + "the Manager the CA's own key (vm_issuer_certificate = ca.pem, vm_issuer_key = ca.key)")
        }
        let issuerKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("VEM")
            OrganizationalUnitName("issuer")
            CommonName(name)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        }
        let issuerCertificate = try Certificate(
            version: .v3, serialNumber: Self.randomSerial(), publicKey: Certificate.PrivateKey(issuerKey).publicKey,
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(Double(days) * 86_400),
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key))
        return SiteCA(certificate: issuerCertificate, key: issuerKey)
    }

    /// 16 random bytes, positive.
    static func randomSerial() -> Certificate.SerialNumber {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[0] = (bytes[0] & 0x7F) | 0x01
        return Certificate.SerialNumber(bytes: bytes)
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 literal, or nil.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// 1 to 253 ASCII letters, digits, `.`, `-`, `_`, starting with a letter or digit (the hub's name rule).
    static func isWord(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= 253, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}

extension CertificateIdentity {
    /// Reads who a certificate names: its subject's common name, exactly one `vem:role/` SAN URI, at most one
    /// `vem:group/` SAN URI. The certificate's chain and validity are checked elsewhere (by the TLS handshake).
    /// - Throws: ``TrustError`` when the certificate names no holder or no single known role.
    public init(certificate: Certificate) throws {
        var commonNames: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let text = String(attribute.value) { commonNames.append(text) }
            }
        }
        guard commonNames.count == 1, let name = commonNames.first, SiteCA.isWord(name) else {
            throw TrustError("the certificate does not name one holder (subject common name)")
        }
        let uris: [String] = ((try? certificate.extensions.subjectAlternativeNames) ?? nil).map { names in
            names.compactMap { if case .uniformResourceIdentifier(let uri) = $0 { return uri } else { return nil } }
        } ?? []
        let roles = uris.filter { $0.hasPrefix(Self.rolePrefix) }.map { String($0.dropFirst(Self.rolePrefix.count)) }
        guard roles.count == 1, let role = TrustRole(rawValue: roles[0]) else {
            throw TrustError("the certificate of \(name) does not carry one VEM role (SAN URI vem:role/…)")
        }
        let groups = uris.filter { $0.hasPrefix(Self.groupPrefix) }.map { String($0.dropFirst(Self.groupPrefix.count)) }
        guard groups.count <= 1, groups.allSatisfy(SiteCA.isWord) else {
            throw TrustError("the certificate of \(name) carries more than one VEM group")
        }
        self.init(
            name: name, role: role, group: groups.first,
            serial: certificate.serialNumber.bytes.map { cFormat("%02x", $0) }.joined(),
            issuer: certificate.issuer.description)
    }
}
