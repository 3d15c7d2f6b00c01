import VEMProtocol

/// Who may join: the Manager's check of a `hello` (credentials and version).
public struct Admission: Sendable {
    /// The token every Client must present (`nil` with an empty ``perClientTokens``: no authentication —
    /// acceptable on a test bench only).
    public var sharedToken: String?
    /// Tokens by Client name; a Client listed here must present its own token (the shared one is not enough).
    public var perClientTokens: [String: String]
    /// The Manager's software version; a Client is admitted when its major version is the same. Default `1.0.0`.
    public var managerVersion: String

    /// Creates an admission policy.
    /// - Parameters:
    ///   - sharedToken: The token all Clients present (default none).
    ///   - perClientTokens: Per-Client tokens (default none).
    ///   - managerVersion: The Manager's version; Clients must share its major version (default `1.0.0`).
    public init(sharedToken: String? = nil, perClientTokens: [String: String] = [:], managerVersion: String = "1.0.0") {
        self.sharedToken = sharedToken
        self.perClientTokens = perClientTokens
        self.managerVersion = managerVersion
    }

    /// Checks a `hello`; `nil` admits it.
    /// - Parameter hello: The Client's hello.
    /// - Returns: The refusal, or `nil`.
    public func check(_ hello: Hello) -> Reject? {
        if hello.name.isEmpty || hello.name.utf8.count > 255 {
            return Reject(.forbidden, detail: "client name must be 1 to 255 bytes")
        }
        guard Self.major(of: hello.version) != nil, Self.major(of: hello.version) == Self.major(of: managerVersion)
        else {
            return Reject(.unsupportedVersion, detail: "client version is not compatible with \(managerVersion)")
        }
        if let expected = perClientTokens[hello.name] {
            if !Self.constantTimeEquals(expected, hello.token) {
                return Reject(.badCredentials, detail: "token not accepted")
            }
        } else if let sharedToken {
            if !Self.constantTimeEquals(sharedToken, hello.token) {
                return Reject(.badCredentials, detail: "token not accepted")
            }
        } else if !perClientTokens.isEmpty {
            return Reject(.forbidden, detail: "unknown client")
        }
        return nil
    }

    /// The leading number of a dotted version (`1` for `1.4.0`).
    static func major(of version: String) -> Int? {
        Int(version.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// Compares without an early exit on the first differing byte.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }
}
