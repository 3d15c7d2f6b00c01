/// Why a CA, a certificate or a TLS context cannot be made or used. The text never contains key material.
public struct TrustError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var description: String
    /// An error described by `description`.
    public init(_ description: String) { self.description = description }
}
