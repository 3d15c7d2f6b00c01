import VEMAgent
import VEMBus
import VEMConfig
import VEMCore
import VEMProtocol

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Works out who this Client is: its name, role, host, group and VM id, for the `hello`.
///
/// Each field comes from the first source that has it:
/// 1. the `[client]` section (`name`, `role`, `host`, `group`, `vm_id`);
/// 2. for a domU, the guest kernel's command line `/proc/cmdline`: `vem.name=<n> vem.group=<g> vem.vm=<id>
///    vem.host=<h>` (a VM template passes them with `-append` or the libvirt `<cmdline>`);
/// 3. for a domU, SMBIOS strings: the same `vem.…=` tokens in `/sys/class/dmi/id/product_serial` (QEMU
///    `-smbios type=1,serial=…`, libvirt `<sysinfo><system><entry name='serial'>`) or in OEM strings (SMBIOS
///    type 11, `/sys/firmware/dmi/entries/11-*/raw`; QEMU `-smbios type=11,value=…`); and for the VM id
///    only, `/sys/class/dmi/id/product_uuid` (libvirt sets it to the domain's UUID);
/// 4. the name and host default to the machine's host name.
///
/// Files are read under an injectable root (tests pass a fixture tree).
public struct ClientIdentityResolver: Sendable {
    /// The directory that stands for `/`.
    public var root: FileSystemRoot
    /// The machine's host name.
    public var hostName: String

    /// Creates a resolver.
    /// - Parameters:
    ///   - root: Where `/proc` and `/sys` are (default `/`).
    ///   - hostName: The machine's host name (default: `gethostname(2)`).
    public init(root: String = "/", hostName: String = ClientIdentityResolver.systemHostName()) {
        self.root = FileSystemRoot(root)
        self.hostName = hostName
    }

    /// The identity for these settings.
    /// - Parameters:
    ///   - settings: The `[client]` section.
    ///   - version: The Client's software version.
    ///   - incarnation: This process's incarnation.
    /// - Throws: ``ClientError`` `.identity` when a domU has no group from any source, or the name is empty.
    public func resolve(_ settings: ClientSettings, version: String, incarnation: UInt64) throws(ClientError)
        -> ClientIdentity
    {
        var name = settings.name
        var host = settings.host
        var group = settings.group
        var vmID = settings.vmID
        if settings.role == .domU {
            for tokens in [cmdlineTokens(), smbiosTokens()] {
                name = name ?? tokens["vem.name"]
                host = host ?? tokens["vem.host"]
                group = group ?? tokens["vem.group"]
                vmID = vmID ?? tokens["vem.vm"]
            }
            vmID = vmID ?? productUUID()
            guard group != nil else {
                throw ClientError(
                    .identity,
                    "error: a domU client needs a group: set [client] group, or boot the VM with vem.group=<group> "
                        + "on its kernel command line or in its SMBIOS serial/OEM strings")
            }
        }
        let finalName = name ?? hostName
        guard !finalName.isEmpty else {
            throw ClientError(.identity, "error: the client has no name: set [client] name")
        }
        return ClientIdentity(
            name: finalName, role: settings.role, host: host ?? hostName, group: group, vmID: vmID,
            version: version, incarnation: incarnation)
    }

    /// `vem.*=` tokens of `/proc/cmdline` (empty when unreadable).
    public func cmdlineTokens() -> [String: String] {
        Self.tokens(in: (try? root.readText("/proc/cmdline", limit: 64 * 1024)) ?? "")
    }

    /// `vem.*=` tokens of the SMBIOS serial number and OEM strings (empty when there are none).
    public func smbiosTokens() -> [String: String] {
        var result = Self.tokens(in: (try? root.readText("/sys/class/dmi/id/product_serial", limit: 4096)) ?? "")
        for text in oemStrings() {
            for (key, value) in Self.tokens(in: text) where result[key] == nil { result[key] = value }
        }
        return result
    }

    /// The SMBIOS system UUID, lower-cased, when readable and not all zeros.
    public func productUUID() -> String? {
        guard let text = try? root.readText("/sys/class/dmi/id/product_uuid", limit: 256) else { return nil }
        let uuid = text.trimmingWhitespace().lowercased()
        guard !uuid.isEmpty, uuid.contains(where: { $0 != "0" && $0 != "-" }) else { return nil }
        return uuid
    }

    /// The strings of every SMBIOS type-11 (OEM strings) structure.
    func oemStrings() -> [String] {
        var out: [String] = []
        for index in 0..<8 {
            guard let real = try? root.resolve("/sys/firmware/dmi/entries/11-\(index)/raw"),
                let data = FileManager.default.contents(atPath: real)
            else { break }
            out += Self.smbiosStrings([UInt8](data))
        }
        return out
    }

    /// The strings of one raw SMBIOS structure: after the formatted area (its length is byte 1), NUL-terminated
    /// strings, ended by an empty one.
    static func smbiosStrings(_ raw: [UInt8]) -> [String] {
        guard raw.count >= 4 else { return [] }
        var i = Int(raw[1])
        var strings: [String] = []
        while i < raw.count {
            guard let end = raw[i...].firstIndex(of: 0) else { break }
            if end == i { break }
            strings.append(String(decoding: raw[i..<end], as: UTF8.self))
            i = end + 1
        }
        return strings
    }

    /// The `vem.key=value` tokens of a white-space separated text (first occurrence wins; empty values ignored).
    public static func tokens(in text: String) -> [String: String] {
        var result: [String: String] = [:]
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
            guard word.hasPrefix("vem."), let eq = word.firstIndex(of: "=") else { continue }
            let key = String(word[..<eq])
            var value = String(word[word.index(after: eq)...])
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = String(value.dropFirst().dropLast())
            }
            if !value.isEmpty, result[key] == nil { result[key] = value }
        }
        return result
    }

    /// The machine's host name from `gethostname(2)` (`localhost` when it fails).
    public static func systemHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// A fresh incarnation: random, never 0, and below 2^63, so that logs (unsigned), the journal and the
    /// snapshot JSON (signed 64-bit) print the same number.
    public static func newIncarnation() -> UInt64 { UInt64.random(in: 1...UInt64(Int64.max)) }
}
