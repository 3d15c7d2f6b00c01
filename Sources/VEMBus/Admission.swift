import VEMProtocol
import VEMCore

/// Who may join: the Manager's check of a `hello` (names, credentials, role and version).
///
/// A Client listed in ``perClientTokens`` must present its own token, and joins only with the role (and group)
/// bound to that token; the shared token admits the other Clients with one of ``sharedTokenRoles``. With per-Client
/// tokens for the hosts and the batch server, and `sharedTokenRoles = [.domU]`, a guest's token can join as a
/// guest only: never as a Dom0 or a batch Client.
public struct Admission: Sendable {
    /// The credential of one Client: its token, and the role (and group) it may claim with it.
    public struct Credential: Hashable, Sendable {
        /// The token this Client presents. Never log it.
        public var token: String
        /// The only role this Client may announce.
        public var role: ClientRole
        /// The only group this Client may announce (`nil`: any).
        public var group: String?

        /// Creates a credential.
        public init(token: String, role: ClientRole, group: String? = nil) {
            self.token = token
            self.role = role
            self.group = group
        }
    }

    /// The token every Client must present (`nil` with an empty ``perClientTokens``: no authentication —
    /// acceptable on a test bench only).
    public var sharedToken: String?
    /// Credentials by Client name; a Client listed here must present its own token (the shared one is not enough)
    /// and announce the role bound to it.
    public var perClientTokens: [String: Credential]
    /// The roles a Client may announce with the shared token. Default: all three.
    public var sharedTokenRoles: Set<ClientRole>
    /// The Manager's software version; a Client is admitted when its major version is the same. Default `1.0.0`.
    public var managerVersion: String
    /// Whether every Client must come with a certificate (``CertifiedPeer``): set when the hub runs mutual TLS.
    /// A certified Client's hello must match its certificate; its token is not looked at. Default: no.
    public var requiresCertificate = false

    /// Creates an admission policy.
    /// - Parameters:
    ///   - sharedToken: The token all Clients present (default none).
    ///   - perClientTokens: Per-Client credentials (default none).
    ///   - sharedTokenRoles: The roles the shared token admits (default all).
    ///   - managerVersion: The Manager's version; Clients must share its major version (default `1.0.0`).
    public init(
        sharedToken: String? = nil, perClientTokens: [String: Credential] = [:],
        sharedTokenRoles: Set<ClientRole> = Set(ClientRole.allCases), managerVersion: String = "1.0.0"
    ) {
        self.sharedToken = sharedToken
        self.perClientTokens = perClientTokens
        self.sharedTokenRoles = sharedTokenRoles
        self.managerVersion = managerVersion
    }

    /// Whether any Client must prove who it is.
    public var authenticates: Bool { requiresCertificate || sharedToken != nil || !perClientTokens.isEmpty }

    /// Checks a `hello`; `nil` admits it. Every refusal detail is free of the hello's own strings.
    /// - Parameter hello: The Client's hello.
    /// - Returns: The refusal, or `nil`.
    /// - Parameter certificate: Who the connection's client certificate names (nil: no TLS, or none).
    public func check(_ hello: Hello, certificate: CertifiedPeer? = nil) -> Reject? {
        if let problem = Self.nameProblem(hello) { return Reject(.forbidden, detail: problem) }
        guard Self.major(of: hello.version) != nil, Self.major(of: hello.version) == Self.major(of: managerVersion)
        else {
            return Reject(.unsupportedVersion, detail: "client version is not compatible with \(managerVersion)")
        }
        if let certificate { return Self.check(hello, against: certificate) }
        if requiresCertificate { return Reject(.badCredentials, detail: "no client certificate") }
        if let credential = perClientTokens[hello.name] {
            if !Self.constantTimeEquals(credential.token, hello.token) {
                return Reject(.badCredentials, detail: "token not accepted")
            }
            if hello.role != credential.role {
                return Reject(.forbidden, detail: "this token may join as \(credential.role.name) only")
            }
            if let group = credential.group, hello.group != group {
                return Reject(.forbidden, detail: "this token may join for its own group only")
            }
        } else if let sharedToken {
            if !Self.constantTimeEquals(sharedToken, hello.token) {
                return Reject(.badCredentials, detail: "token not accepted")
            }
            if !sharedTokenRoles.contains(hello.role) {
                return Reject(.forbidden, detail: "the shared token may not join as \(hello.role.name)")
            }
        } else if !perClientTokens.isEmpty {
            return Reject(.forbidden, detail: "unknown client")
        }
        return nil
    }

    /// A certified Client says who its certificate says it is: the same name, the same role (a certificate for a
    /// Manager or an operator is no Client's), and, when the certificate names a group, that group. The details
    /// name the certificate's holder (signed by the site CA), never the hello's claims.
    static func check(_ hello: Hello, against certificate: CertifiedPeer) -> Reject? {
        guard let role = ClientRole(name: certificate.role) else {
            return Reject(.forbidden, detail: "the certificate of \(certificate.name) is for a \(certificate.role), not a client")
        }
        if hello.name != certificate.name {
            return Reject(.forbidden, detail: "the certificate is for \(certificate.name), not for the name this hello claims")
        }
        if hello.role != role {
            return Reject(.forbidden, detail: "the certificate of \(certificate.name) may join as \(role.name) only")
        }
        if let group = certificate.group, hello.group != group {
            return Reject(.forbidden, detail: "the certificate of \(certificate.name) may join for group \(group) only")
        }
        if role == .domU, certificate.group == nil {
            return Reject(.forbidden, detail: "the guest certificate of \(certificate.name) names no group")
        }
        return nil
    }

    /// Why the hello's names cannot be admitted (`nil`: they can): name, host, group and VM id must be host-name
    /// words (``isHostNameWord(_:)``), the version printable and short.
    static func nameProblem(_ hello: Hello) -> String? {
        if !isHostNameWord(hello.name) { return "client name must be 1 to 253 letters, digits, '.', '-' or '_'" }
        if !isHostNameWord(hello.host) { return "host must be 1 to 253 letters, digits, '.', '-' or '_'" }
        if let group = hello.group, !isHostNameWord(group) {
            return "group must be 1 to 253 letters, digits, '.', '-' or '_'"
        }
        if let vm = hello.vmID, !isHostNameWord(vm) { return "VM id must be 1 to 253 letters, digits, '.', '-' or '_'" }
        let version = hello.version.utf8
        if version.isEmpty || version.count > 64
            || !version.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") })
        {
            return "version must be 1 to 64 letters, digits, '.', '-' or '+'"
        }
        return nil
    }

    /// A word made of host-name characters: 1 to 253 ASCII letters, digits, `.`, `-` and `_`, starting with a
    /// letter or digit. Nothing else a URI, a shell, a log line or a terminal would read specially.
    public static func isHostNameWord(_ text: String) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, bytes.count <= 253, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// The leading number of a dotted version (`1` for `1.4.0`).
    static func major(of version: String) -> Int? {
        Int(version.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// Compares without an early exit: every byte of the longer string is visited, and any difference in length
    /// (at full width, not reduced to a byte) refuses.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference: UInt8 = x.count == y.count ? 0 : 1
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }
}
