import VEMCore

/// The TLS files of an endpoint (`tls_ca`, `tls_certificate`, `tls_key`, and the Manager's `tls_revoked`): set
/// all three or none. Made by `vem ca init` and `vem ca issue`.
public struct TLSSettings: Hashable, Sendable, Codable {
    /// The site CA's certificate.
    public var ca: String
    /// This endpoint's certificate (issued by the site CA with its name and role).
    public var certificate: String
    /// This endpoint's key (0600).
    public var key: String
    /// The Manager's list of revoked serial numbers (`vem ca revoke`), read at start. Default nil.
    public var revoked: String?

    /// Files at these paths.
    public init(ca: String, certificate: String, key: String, revoked: String? = nil) {
        self.ca = ca
        self.certificate = certificate
        self.key = key
        self.revoked = revoked
    }

    /// The keys of a `[client]` section.
    public static let clientKeys = ["tls_ca", "tls_certificate", "tls_key"]
    /// The keys of the `[manager]` section.
    public static let managerKeys = clientKeys + ["tls_revoked"]

    /// Decodes the TLS keys; nil when none is set, an error when only some of the three files are.
    static func decode(_ d: inout SectionDecoder, manager: Bool) -> TLSSettings? {
        let ca = d.string("tls_ca")
        let certificate = d.string("tls_certificate")
        let key = d.string("tls_key")
        let revoked = manager ? d.string("tls_revoked") : nil
        guard let ca, let certificate, let key else {
            let given = [("tls_ca", ca), ("tls_certificate", certificate), ("tls_key", key)].filter { $0.1 != nil }
            if let first = given.first, let value = d.entry(first.0)?.value {
                d.error(value, "TLS needs all of tls_ca, tls_certificate and tls_key")
            } else if revoked != nil, let value = d.entry("tls_revoked")?.value {
                d.error(value, "'tls_revoked' needs tls_ca, tls_certificate and tls_key")
            }
            return nil
        }
        return TLSSettings(ca: ca, certificate: certificate, key: key, revoked: revoked)
    }
}
