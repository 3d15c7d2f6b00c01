/// The check of a live migration's destination URI (`vm.migrate to=`), made by the Manager when it builds the
/// URI and again by the Dom0 before it hands the URI to libvirt. libvirt URIs can run programs
/// (`qemu+ext:///system?command=/path`), skip host-key checks or name sockets through their query string, so
/// only a plain `qemu+ssh://host/path` or `qemu+tls://host/path` passes: a known scheme, a host made of host-name
/// characters (optionally `user@` and `:port`), a path of plain characters, and no query string or fragment.
public enum MigrationURI {
    /// The schemes a migration may use: `qemu+ssh`, `qemu+tls`.
    public static let schemes: Set<String> = ["qemu+ssh", "qemu+tls"]

    /// Why `uri` is not an acceptable destination (`nil`: it is).
    /// - Parameters:
    ///   - uri: The destination URI.
    ///   - schemes: The schemes accepted (default ``schemes``).
    public static func problem(_ uri: String, schemes: Set<String> = Self.schemes) -> String? {
        let bytes = Array(uri.utf8)
        guard !bytes.isEmpty, bytes.count <= 1024, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "a migration URI is 1 to 1024 printable ASCII characters without spaces"
        }
        if uri.contains("?") || uri.contains("#") { return "a migration URI may not carry a query string or fragment" }
        guard let colon = uri.firstIndex(of: ":"), uri[colon...].hasPrefix("://") else {
            return "a migration URI is scheme://host/path"
        }
        let scheme = String(uri[..<colon])
        guard schemes.contains(scheme) else {
            return "a migration goes over \(schemes.sorted().joined(separator: " or ")) only, not \(scheme)"
        }
        let rest = uri[uri.index(colon, offsetBy: 3)...]
        guard let slash = rest.firstIndex(of: "/") else { return "a migration URI needs a path (/system)" }
        var authority = Substring(rest[..<slash])
        let path = rest[slash...]
        if let at = authority.lastIndex(of: "@") {
            guard isWord(authority[..<at]) else { return "a migration URI's user must be a plain name" }
            authority = authority[authority.index(after: at)...]
        }
        if let colon = authority.lastIndex(of: ":") {
            let port = authority[authority.index(after: colon)...]
            guard let n = Int(port), (1...65535).contains(n), port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return "a migration URI's port must be a number from 1 to 65535"
            }
            authority = authority[..<colon]
        }
        guard isWord(authority) else { return "a migration URI must name its host with host-name characters" }
        guard path.utf8.allSatisfy({ isWordByte($0) || $0 == UInt8(ascii: "/") }) else {
            return "a migration URI's path may hold letters, digits, '/', '.', '-' and '_' only"
        }
        return nil
    }

    /// A host name or user name: 1 to 253 letters, digits, `.`, `-`, `_`, starting with a letter or digit.
    static func isWord(_ text: Substring) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, bytes.count <= 253, isWordByte(first), first != UInt8(ascii: "."),
            first != UInt8(ascii: "-"), first != UInt8(ascii: "_")
        else { return false }
        return bytes.allSatisfy(isWordByte)
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: ".")
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }
}
