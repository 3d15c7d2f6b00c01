import NIOSSL
import X509

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The three files of a TLS endpoint: the site CA it trusts, its own certificate and its key.
public struct TLSFiles: Hashable, Sendable {
    /// The site CA's certificate (PEM).
    public var ca: String
    /// This endpoint's certificate (PEM), issued by the site CA.
    public var certificate: String
    /// This endpoint's private key (PEM).
    public var key: String

    /// Files at these paths.
    public init(ca: String, certificate: String, key: String) {
        self.ca = ca
        self.certificate = certificate
        self.key = key
    }
}

/// Builds the TLS contexts of the hub and the operator API (swift-nio-ssl), and reads who a peer's certificate
/// names. Both sides trust the site CA only (never the system's roots), TLS 1.2 at least.
public enum TLSContexts {
    /// A server context that requires a client certificate from the site CA (the handshake fails without one).
    /// The certificate's names are not matched against anything: the hub compares the identity it names with
    /// the `hello` instead.
    /// - Throws: ``TrustError`` when a file cannot be read.
    public static func server(_ files: TLSFiles) throws -> NIOSSLContext {
        try context(try serverConfiguration(files))
    }

    /// The configuration of ``server(_:)`` (for servers that make their own context: the operator API).
    /// - Throws: ``TrustError`` when a file cannot be read.
    public static func serverConfiguration(_ files: TLSFiles) throws -> TLSConfiguration {
        let (chain, key, roots) = try load(files)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.trustRoots = .certificates(roots)
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// A client context that presents this endpoint's certificate and verifies the server's against the site
    /// CA and against the name (or IP address) it dials.
    /// - Throws: ``TrustError`` when a file cannot be read.
    public static func client(_ files: TLSFiles) throws -> NIOSSLContext {
        let (chain, key, roots) = try load(files)
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = chain.map { .certificate($0) }
        configuration.privateKey = .privateKey(key)
        configuration.trustRoots = .certificates(roots)
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        return try context(configuration)
    }

    /// Who a peer's certificate (already verified by the handshake) names.
    /// - Throws: ``TrustError`` when it names no VEM holder and role.
    public static func identity(of certificate: NIOSSLCertificate) throws -> CertificateIdentity {
        let der: [UInt8]
        do { der = try certificate.toDERBytes() } catch { throw TrustError("unreadable peer certificate: \(error)") }
        let parsed: Certificate
        do { parsed = try Certificate(derEncoded: der) } catch {
            throw TrustError("unreadable peer certificate: \(error)")
        }
        return try CertificateIdentity(certificate: parsed)
    }

    /// The subject of the (first) certificate of a PEM file, as ``CertificateIdentity/issuer`` spells it.
    /// - Throws: ``TrustError`` when the file cannot be read.
    public static func subject(ofPEMFile path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TrustError("cannot read \(path)") }
        do { return try Certificate(pemEncoded: text).subject.description } catch {
            throw TrustError("cannot read \(path): \(error)")
        }
    }

    /// The server name to send (SNI) for a host: nil for an IP address literal (verified against the address).
    public static func serverName(for host: String) -> String? {
        SiteCA.ipAddressBytes(host) == nil ? host : nil
    }

    private static func load(_ files: TLSFiles) throws -> ([NIOSSLCertificate], NIOSSLPrivateKey, [NIOSSLCertificate]) {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
            let key = try NIOSSLPrivateKey(file: files.key, format: .pem)
            let roots = try NIOSSLCertificate.fromPEMFile(files.ca)
            guard !chain.isEmpty, !roots.isEmpty else { throw TrustError("empty certificate file") }
            return (chain, key, roots)
        } catch let error as TrustError {
            throw TrustError("cannot read \(files.certificate), \(files.key) or \(files.ca): \(error)")
        } catch {
            throw TrustError("cannot read \(files.certificate), \(files.key) or \(files.ca): \(error)")
        }
    }

    private static func context(_ configuration: TLSConfiguration) throws -> NIOSSLContext {
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw TrustError("cannot set up TLS: \(error)")
        }
    }
}
