import VEMCore

/// Where a guest's Client takes its TLS identity from instead of `tls_*` files (`credentials`).
public enum CredentialSource: String, Hashable, Sendable, Codable, CaseIterable {
    /// The Manager's credential for this VM, in an SMBIOS OEM string of the domain (`vm.create` put it there).
    case smbios
}

/// A Client's own settings, from the `[client]` section of an agent file.
public struct ClientSettings: Hashable, Sendable, Codable {
    /// The Client's name on the Bus. Default: nil (the host name at start-up).
    public var name: String?
    /// What the Client runs on. Default: ``ClientRole/dom0``.
    public var role: ClientRole
    /// The real host: for a domU, the host its VM runs on. Default: nil.
    public var host: String?
    /// The group whose VM this is. Required for a domU, else default nil.
    public var group: String?
    /// The VM's identifier (libvirt UUID or name), for a domU. Default: nil.
    public var vmID: String?
    /// The Manager's hub address. Default: `127.0.0.1:7400`.
    public var manager: HostPort
    /// The Bus. Default: ``BusKind/hub``.
    public var bus: BusKind
    /// The NATS servers, site and credentials (when `bus = nats`).
    public var nats: NATSSettings
    /// The token presented to the Manager, inline. Default: nil. Prefer ``tokenFile``.
    public var token: String?
    /// A file holding the token. Default: nil. At most one of `token` and `token_file` may be set.
    public var tokenFile: String?
    /// Mutual TLS to the Manager (`tls_ca`, `tls_certificate`, `tls_key`): the Manager must prove itself with a
    /// certificate of the site CA before the hello is sent, and this Client's certificate is its identity.
    /// Default: nil (plain TCP, token).
    public var tls: TLSSettings?
    /// A domU's credential from the Manager (`credentials = smbios`): read at start-up from the SMBIOS OEM strings
    /// (root only), its key kept in a 0600 file under ``credentialsDirectory`` and used as this Client's mutual TLS
    /// identity. Excludes `tls_*`. Default: nil.
    public var credentials: CredentialSource?
    /// Where the credential's files go (`credentials_dir`, a tmpfs: `/run`). Default: `/run/vem/credentials`.
    public var credentialsDirectory: String
    /// Seconds between heartbeats. Default: 5 s.
    public var heartbeatInterval: Duration
    /// The command names the Client agrees to run (allowlist). Default: none.
    public var allow: [String]
    /// The programs `exec` commands may run (absolute paths). Default: none.
    public var execAllow: [String]
    /// The libvirt URI of the local hypervisor (dom0). Default: nil.
    public var hypervisor: String?
    /// Destination URIs `vm.migrate` may use besides plain `qemu+ssh://host/path` and `qemu+tls://host/path`,
    /// compared exactly (a private libvirtd's `qemu+unix:///system?socket=…`). Default: none.
    public var migrationDestinations: [String]
    /// Where the `[client]` section is, when there was one.
    public var location: SourceLocation?

    /// The keys a `[client]` section accepts.
    public static let keys = [
        "name", "role", "host", "group", "vm_id", "manager", "bus", "token", "token_file",
        "heartbeat_interval", "allow", "exec_allow", "hypervisor", "migration_destinations", "credentials",
        "credentials_dir",
    ] + NATSSettings.clientKeys + TLSSettings.clientKeys

    /// The default settings.
    public init() {
        name = nil
        role = .dom0
        host = nil
        group = nil
        vmID = nil
        manager = HostPort(host: "127.0.0.1", port: 7400)
        bus = .hub
        nats = NATSSettings()
        token = nil
        tokenFile = nil
        tls = nil
        credentials = nil
        credentialsDirectory = "/run/vem/credentials"
        heartbeatInterval = .seconds(5)
        allow = []
        execAllow = []
        hypervisor = nil
        migrationDestinations = []
        location = nil
    }
}

extension ClientSettings {
    /// Decodes a `[client]` section; nil (with errors logged) when it is invalid.
    static func decode(_ section: IniSection, log: inout DiagnosticLog) -> ClientSettings? {
        var d = SectionDecoder(section, title: "[client]", keys: keys)
        var c = ClientSettings()
        c.location = section.location
        c.name = d.string("name")
        c.role = d.choice("role", as: ClientRole.self, name: \.name) ?? c.role
        c.host = d.string("host")
        c.group = d.string("group")
        c.vmID = d.string("vm_id")
        c.manager = d.address("manager", allowPortZero: false) ?? c.manager
        c.bus = d.choice("bus", as: BusKind.self) ?? c.bus
        c.nats = NATSSettings.decode(&d, bus: c.bus, manager: false)
        c.token = d.string("token")
        c.tokenFile = d.string("token_file")
        if c.token != nil, c.tokenFile != nil, let value = d.entry("token_file")?.value {
            d.error(value, "set either 'token' or 'token_file', not both")
        }
        c.tls = TLSSettings.decode(&d, manager: false)
        c.credentials = d.choice("credentials", as: CredentialSource.self)
        c.credentialsDirectory = d.string("credentials_dir") ?? c.credentialsDirectory
        if c.credentials != nil, let value = d.entry("credentials")?.value {
            if c.role != .domU {
                d.error(value, "'credentials = \(value.text)' is for a guest's Client (role = domU)")
            } else if c.tls != nil {
                d.error(value, "set either 'credentials' or tls_ca/tls_certificate/tls_key, not both")
            }
        }
        if !c.credentialsDirectory.hasPrefix("/"), let value = d.entry("credentials_dir")?.value {
            d.error(value, "'credentials_dir' must be an absolute path")
        }
        c.heartbeatInterval = d.duration("heartbeat_interval", minimumMilliseconds: 10) ?? c.heartbeatInterval
        if let value = d.plain("allow") {
            c.allow = ValueParser.list(value.text)
            for name in c.allow where !ValueParser.isName(name) {
                d.error(value, "'allow' lists \(quoted(name)), which is not a command name")
            }
        }
        if let value = d.plain("exec_allow") {
            c.execAllow = ValueParser.list(value.text)
            for path in c.execAllow where !path.hasPrefix("/") {
                d.error(value, "'exec_allow' lists \(quoted(path)); programs must be absolute paths")
            }
        }
        c.hypervisor = d.string("hypervisor")
        if let value = d.plain("migration_destinations") {
            c.migrationDestinations = ValueParser.list(value.text)
        }
        d.finish()
        if c.role == .domU, c.group == nil, !d.log.hasErrors {
            d.log.error(
                section.location, "a domU client needs 'group' (the group its VM was built for)",
                length: section.headerLength)
        }
        log.append(d.log)
        return d.log.hasErrors ? nil : c
    }
}
