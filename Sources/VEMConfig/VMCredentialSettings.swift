import VEMCore

/// The Manager's issuing of VM credentials (`vm_issuer_certificate`, `vm_issuer_key`, `vm_credential_lifetime`):
/// at `vm.create` it signs a certificate for that VM alone (its name, group, role `domU`) with this key, and the
/// guest joins with it over mutual TLS. Needs the hub's TLS (`tls_ca`, …). Made by `vem ca issuer`.
public struct VMCredentialSettings: Hashable, Sendable, Codable {
    /// The issuing CA's certificate: the intermediate of `vem ca issuer` (or the site CA's own `ca.pem`).
    public var certificate: String
    /// Its key (0600).
    public var key: String
    /// How long a VM credential is valid, in seconds. Default: 7 days (7 d at most 30 d, at least 5 min). It is
    /// revoked earlier when the VM is destroyed.
    public var lifetime: Int

    /// The default lifetime: 7 days.
    public static let defaultLifetime = 7 * 86_400

    /// Settings for these files.
    public init(certificate: String, key: String, lifetime: Int = VMCredentialSettings.defaultLifetime) {
        self.certificate = certificate
        self.key = key
        self.lifetime = lifetime
    }

    /// The keys of the `[manager]` section.
    public static let keys = ["vm_issuer_certificate", "vm_issuer_key", "vm_credential_lifetime"]

    /// Decodes the keys; nil when neither file is set, an error when only one is, or when the hub has no TLS.
    static func decode(_ d: inout SectionDecoder, tls: TLSSettings?) -> VMCredentialSettings? {
        let certificate = d.string("vm_issuer_certificate")
        let key = d.string("vm_issuer_key")
        let lifetime = d.seconds("vm_credential_lifetime", in: 300...(30 * 86_400))
        guard let certificate, let key else {
            if let first = ["vm_issuer_certificate", "vm_issuer_key", "vm_credential_lifetime"].compactMap({
                d.entry($0)?.value
            }).first {
                d.error(first, "VM credentials need both vm_issuer_certificate and vm_issuer_key (`vem ca issuer`)")
            }
            return nil
        }
        if tls == nil, let value = d.entry("vm_issuer_certificate")?.value {
            d.error(value, "VM credentials need the hub's mutual TLS: set tls_ca, tls_certificate and tls_key")
            return nil
        }
        return VMCredentialSettings(certificate: certificate, key: key, lifetime: lifetime ?? Self.defaultLifetime)
    }
}
