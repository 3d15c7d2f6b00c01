import VEMCore

/// How the Manager or a Client reaches a NATS server or cluster (`bus = nats`), from the `[manager]` or
/// `[client]` section. `vem nats-config` writes the servers' accounts: a user per Client (named as the Client),
/// `manager`, and `sys` in the system account.
///
/// ```
/// [client]
/// bus = nats
/// site = perugia
/// nats_url = nats://10.0.0.1:4222, nats://10.0.0.2:4222
/// nats_password_file = /etc/vem/nats-password
/// ```
public struct NATSSettings: Hashable, Sendable, Codable {
    /// The servers (every server of a cluster, for failover). Default: `nats://127.0.0.1:4222`.
    public var servers: [String]
    /// The site name: the second token of every subject (`vem.<site>.…`). Required with `bus = nats`.
    public var site: String?
    /// The NATS user. Default: nil, meaning `manager` for the Manager and the Client's name for a Client.
    public var user: String?
    /// A file holding the user's password. Default: nil (no password).
    public var passwordFile: String?
    /// The Manager only: a file holding the password of the system account's user `sys`; with it the Manager
    /// follows `$SYS` disconnect events and notices a lost Client at once. Default: nil (heartbeats only).
    public var systemPasswordFile: String?
    /// The Manager only: the NATS account of the Manager and the Clients. Default: `VEM`.
    public var account: String

    /// The keys a `[client]` section accepts for NATS.
    public static let clientKeys = ["nats_url", "site", "nats_user", "nats_password_file"]
    /// The keys a `[manager]` section accepts for NATS.
    public static let managerKeys = clientKeys + ["nats_system_password_file", "nats_account"]

    /// The defaults.
    public init() {
        servers = ["nats://127.0.0.1:4222"]
        site = nil
        user = nil
        passwordFile = nil
        systemPasswordFile = nil
        account = "VEM"
    }
}

extension NATSSettings {
    /// Decodes the NATS keys of a `[manager]` (`manager: true`) or `[client]` section; `bus` is the section's bus.
    /// With `bus = nats`, `site` is required; with `bus = hub`, NATS keys are ignored (with a warning).
    static func decode(_ d: inout SectionDecoder, bus: BusKind, manager: Bool) -> NATSSettings {
        var n = NATSSettings()
        if let value = d.plain("nats_url") {
            let urls = ValueParser.list(value.text)
            if let bad = urls.first(where: { !isNATSURL($0) }) ?? (urls.isEmpty ? "" : nil) {
                d.error(
                    value,
                    "invalid NATS URL \(quoted(bad)): expected nats://host:port or tls://host:port (several: comma-separated)")
            } else {
                n.servers = urls
            }
        }
        if let value = d.plain("site") {
            if isSubjectToken(value.text) {
                n.site = value.text
            } else {
                d.error(value, "invalid site name \(quoted(value.text)): letters, digits, '_' and '-' only")
            }
        }
        n.user = d.string("nats_user")
        n.passwordFile = d.string("nats_password_file")
        if manager {
            n.systemPasswordFile = d.string("nats_system_password_file")
            if let value = d.plain("nats_account") {
                if isSubjectToken(value.text) {
                    n.account = value.text
                } else {
                    d.error(value, "invalid NATS account \(quoted(value.text)): letters, digits, '_' and '-' only")
                }
            }
        }
        let keys = manager ? managerKeys : clientKeys
        if bus == .hub {
            for key in keys {
                if let entry = d.entry(key) {
                    d.log.warning(entry.value.location, "'\(key)' is ignored because bus = hub", length: entry.value.length)
                }
            }
        } else if n.site == nil {
            d.log.error(
                d.section.location, "bus = nats needs 'site' (the subject prefix vem.<site>, the same for the Manager and every Client)",
                length: d.section.headerLength)
        }
        return n
    }

    /// `nats://`, `tls://` or `ws(s)://` followed by a host (and optional credentials and port).
    static func isNATSURL(_ text: String) -> Bool {
        let schemes = ["nats://", "tls://", "ws://", "wss://"]
        guard let scheme = schemes.first(where: { text.hasPrefix($0) }) else { return false }
        let rest = text.dropFirst(scheme.count)
        return !rest.isEmpty && !rest.contains(where: \.isWhitespace)
    }

    /// One NATS subject token as VEM uses them.
    static func isSubjectToken(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
