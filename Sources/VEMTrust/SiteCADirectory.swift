import VEMCore
import X509

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The site CA's directory: `ca.pem` (the CA certificate, 0644), `ca.key` (its key, 0600), one `NAME.pem` and
/// `NAME.key` (0600) per issued certificate, and `revoked` (the revoked serial numbers, one a line).
public struct SiteCADirectory: Sendable {
    /// The directory.
    public let path: String

    /// The directory at `path`.
    public init(path: String) { self.path = path }

    /// `DIR/ca.pem`.
    public var certificatePath: String { file("ca.pem") }
    /// `DIR/ca.key`.
    public var keyPath: String { file("ca.key") }
    /// `DIR/revoked`.
    public var revokedPath: String { file("revoked") }

    /// A file in the directory.
    public func file(_ name: String) -> String { joinPath(path, name) }

    /// Creates the directory (0700) and a new CA in it.
    /// - Throws: ``TrustError`` when a CA key is already there (a second `init` never replaces a site's CA) or
    ///   a file cannot be written.
    @discardableResult
    public func initialize(commonName: String = "VEM site CA", days: Int = 3_650) throws -> SiteCA {
        if FileManager.default.fileExists(atPath: keyPath) {
            throw TrustError("\(keyPath) exists: this directory already holds a CA (remove it first to start over)")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw TrustError("cannot create \(path): \(Self.reason(error))")
        }
        let ca = try SiteCA.create(commonName: commonName, days: days)
        try Self.write(ca.keyPEM, to: keyPath, mode: 0o600)
        try Self.write(try ca.certificatePEM, to: certificatePath, mode: 0o644)
        return ca
    }

    /// The CA kept here.
    /// - Throws: ``TrustError`` when `ca.pem` or `ca.key` cannot be read.
    public func load() throws -> SiteCA {
        guard let certificate = try? String(contentsOfFile: certificatePath, encoding: .utf8) else {
            throw TrustError("cannot read \(certificatePath): run `vem ca init` first")
        }
        guard let key = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
            throw TrustError("cannot read \(keyPath)")
        }
        return try SiteCA(certificatePEM: certificate, keyPEM: key)
    }

    /// Issues a certificate and writes `NAME.pem` (0644) and `NAME.key` (0600), replacing earlier ones (rotation).
    /// - Returns: The paths written and who the certificate names.
    public func issue(
        name: String, role: TrustRole, group: String? = nil, hosts: [String] = [], days: Int = 365
    ) throws -> (certificate: String, key: String, identity: CertificateIdentity) {
        if name == "ca" { throw TrustError("'ca' is the CA's own file name: choose another name") }
        let issued = try load().issue(name: name, role: role, group: group, hosts: hosts, days: days)
        let certificate = file("\(name).pem")
        let key = file("\(name).key")
        try Self.write(issued.keyPEM, to: key, mode: 0o600)
        try Self.write(issued.certificatePEM, to: certificate, mode: 0o644)
        return (certificate, key, issued.identity)
    }

    /// Creates the Manager's issuing intermediate for VM credentials and writes `NAME.pem` (0644) and `NAME.key`
    /// (0600): give them to the Manager as `vm_issuer_certificate` and `vm_issuer_key`.
    /// - Returns: The paths written and the intermediate's serial number.
    public func createIssuer(name: String, days: Int = 365) throws -> (certificate: String, key: String, serial: String) {
        if name == "ca" { throw TrustError("'ca' is the CA's own file name: choose another name") }
        let issuer = try load().createIssuer(name: name, days: days)
        let certificate = file("\(name).pem")
        let key = file("\(name).key")
        try Self.write(issuer.keyPEM, to: key, mode: 0o600)
        try Self.write(try issuer.certificatePEM, to: certificate, mode: 0o644)
        let serial = issuer.certificate.serialNumber.bytes.map { cFormat("%02x", $0) }.joined()
        return (certificate, key, serial)
    }

    /// Adds the serial number of `NAME.pem` (or `serial` itself, when it is hexadecimal and no such file exists)
    /// to `revoked`.
    /// - Returns: The serial revoked.
    public func revoke(_ nameOrSerial: String) throws -> String {
        let serial: String
        if let pem = try? String(contentsOfFile: file("\(nameOrSerial).pem"), encoding: .utf8) {
            do {
                serial = try CertificateIdentity(certificate: try Certificate(pemEncoded: pem)).serial
            } catch {
                throw TrustError("cannot read \(file("\(nameOrSerial).pem")): \(error)")
            }
        } else if !nameOrSerial.isEmpty, nameOrSerial.allSatisfy(\.isHexDigit) {
            serial = nameOrSerial.lowercased()
        } else {
            throw TrustError("no certificate \(file("\(nameOrSerial).pem")), and \(nameOrSerial.debugDescription) is no serial number")
        }
        var list = (try? String(contentsOfFile: revokedPath, encoding: .utf8)) ?? ""
        if !Self.revokedSerials(in: list).contains(serial) {
            list += serial + "\n"
            try Self.write(list, to: revokedPath, mode: 0o644)
        }
        return serial
    }

    /// The serial numbers in a revocation list's text: one hexadecimal number a line, `#` starts a comment.
    public static func revokedSerials(in text: String) -> Set<String> {
        var serials: Set<String> = []
        for line in text.split(whereSeparator: \.isNewline) {
            let word = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let serial = word.trimmingWhitespace(newlines: false).lowercased()
            if !serial.isEmpty { serials.insert(serial) }
        }
        return serials
    }

    /// Writes `text` to a file created with `mode` (the mode is set before any byte is written).
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw TrustError("cannot write \(path): \(String(cString: strerror(errno)))") }
        fchmod(fd, mode)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let closed = close(fd)
        guard written == bytes.count, closed == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TrustError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Why a file operation failed, in the C library's words (`Not a directory`) when the error carries an errno:
    /// FoundationEssentials has no `localizedDescription`.
    static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError, let posix = cocoa.userInfo["NSUnderlyingError"] as? POSIXError {
            return String(cString: strerror(posix.code.rawValue))
        }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return "\(error)"
    }
}
