import VEMAgent
import VEMConfig
import VEMCore
import VEMTrust

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// A guest's credential from the Manager (`credentials = smbios`): the SMBIOS OEM string `vm.create` put into the
/// domain, read at start-up from `/sys/firmware/dmi/entries/11-*/raw` (the `dmi-sysfs` module) or else from the
/// raw table `/sys/firmware/dmi/tables/DMI` (built into the kernel); both readable by root only. Its certificate
/// chain, key and the site CA are written 0600 into a 0700 directory on a tmpfs (`credentials_dir`), which the
/// Client's TLS then loads; the key goes nowhere else.
public struct GuestCredentials: Sendable {
    /// The directory that stands for `/` (tests pass a fixture tree).
    public var root: FileSystemRoot

    /// Reads under `root`.
    public init(root: String = "/") { self.root = FileSystemRoot(root) }

    /// Reads the credential, writes its files into `directory` and returns the Client's TLS settings for them
    /// and who the certificate names.
    /// - Throws: ``ClientError`` `.identity` when no SMBIOS OEM string holds a credential, it cannot be read, or
    ///   a file cannot be written (never showing the credential).
    public func install(into directory: String) throws(ClientError) -> (tls: TLSSettings, identity: CertificateIdentity) {
        let texts = oemStrings().filter { $0.hasPrefix(VMCredential.prefix) }
        guard let text = texts.first else {
            throw ClientError(
                .identity,
                "error: credentials = smbios, but no SMBIOS OEM string holds a VEM credential (is this a VM the "
                    + "Manager created with vm_issuer_* set? the agent must run as root)")
        }
        let credential: VMCredential
        let pem: (chain: String, key: String, ca: String)
        do {
            credential = try VMCredential(oemString: text)
            pem = try credential.pem()
        } catch {
            throw ClientError(.identity, "error: the SMBIOS credential cannot be read: \(error)")
        }
        let tls = TLSSettings(
            ca: joinPath(directory, "ca.pem"),
            certificate: joinPath(directory, "client.pem"),
            key: joinPath(directory, "client.key"))
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chmod(directory, 0o700)
            try Self.write(pem.key, to: tls.key)
            try Self.write(pem.chain, to: tls.certificate)
            try Self.write(pem.ca, to: tls.ca)
        } catch {
            throw ClientError(.identity, "error: cannot write the credential into \(directory): \(error)")
        }
        return (tls, credential.identity)
    }

    /// Every SMBIOS OEM string (type 11): from `entries/11-*/raw`, or else from the raw table.
    public func oemStrings() -> [String] {
        var out: [String] = []
        for index in 0..<16 {
            guard let real = try? root.resolve("/sys/firmware/dmi/entries/11-\(index)/raw"),
                let data = FileManager.default.contents(atPath: real)
            else { break }
            out += ClientIdentityResolver.smbiosStrings([UInt8](data))
        }
        if !out.isEmpty { return out }
        guard let real = try? root.resolve("/sys/firmware/dmi/tables/DMI"),
            let table = FileManager.default.contents(atPath: real)
        else { return [] }
        return Self.oemStrings(inTable: [UInt8](table))
    }

    /// The strings of every type-11 structure of a raw SMBIOS table: structures of a 4-byte header (type,
    /// length of the formatted area, handle), the formatted area, then NUL-terminated strings ended by an empty
    /// one; type 127 ends the table.
    static func oemStrings(inTable table: [UInt8]) -> [String] {
        var strings: [String] = []
        var i = 0
        while i + 4 <= table.count {
            let type = table[i]
            let length = Int(table[i + 1])
            guard length >= 4, i + length <= table.count else { break }
            // The string area: from the end of the formatted area to the double NUL.
            var end = i + length
            while end + 1 < table.count, !(table[end] == 0 && table[end + 1] == 0) { end += 1 }
            guard end + 1 < table.count else { break }
            if type == 11 { strings += ClientIdentityResolver.smbiosStrings(Array(table[i..<(end + 2)])) }
            if type == 127 { break }
            i = end + 2
        }
        return strings
    }

    /// Writes a file created 0600 (the mode set before any byte is written), replacing it.
    static func write(_ text: String, to path: String) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TrustError("cannot create \(path): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let closed = close(fd)
        guard written == bytes.count, closed == 0 else {
            throw TrustError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
