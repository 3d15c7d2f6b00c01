import VEMCore

/// Which Bus implementation connects the Manager and its Clients.
public enum BusKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// The embedded hub: the Manager listens on TCP and Clients connect to it.
    case hub
    /// A NATS server or cluster.
    case nats
}

/// The Manager's own settings, from the `[manager]` section. Every field has a default, so an
/// absent section means "all defaults".
public struct ManagerSettings: Hashable, Sendable, Codable {
    /// The Bus. Default: ``BusKind/hub``.
    public var bus: BusKind
    /// The hub's listen address. Default: `127.0.0.1:7400`.
    public var listen: HostPort
    /// The NATS servers, site and credentials (used when `bus = nats`).
    public var nats: NATSSettings
    /// A file holding the shared token Clients must present. Default: nil (no token check: the Manager then
    /// refuses to listen off loopback unless ``insecure``). An empty file is an error, not "no token".
    public var tokenFile: String?
    /// A directory of per-Client tokens, `DIR/<role>/<name>` (role `dom0`, `batch` or `domU`): the Client `name`
    /// must present that file's token and may join with that role only; the shared token then admits guests
    /// (`domU`) only. Default: nil (every Client presents the shared token, whatever role it announces).
    public var clientTokens: String?
    /// Whether the Manager may listen off loopback without TLS (hub and operator API). Default: no.
    public var insecure: Bool
    /// Mutual TLS on the hub (`tls_ca`, `tls_certificate`, `tls_key`, `tls_revoked`): Clients must present a
    /// certificate of the site CA, which is then their identity. Default: nil (plain TCP, tokens).
    public var tls: TLSSettings?
    /// VM credentials (`vm_issuer_certificate`, `vm_issuer_key`, `vm_credential_lifetime`): the Manager issues
    /// each VM its own certificate at `vm.create` and revokes it when the VM is destroyed. Default: nil (guests
    /// bring their own certificate, or a token without TLS).
    public var vmCredentials: VMCredentialSettings?
    /// How often Clients send heartbeats; a Client silent for twice this is disconnected. Default: 5 s.
    public var heartbeatInterval: Duration
    /// At most this many hub connections from one IP address (more are closed as soon as they are accepted).
    /// Guests behind one NAT address (libvirt's default network) share it: raise it above the number of VMs behind
    /// one such address. Default: 64.
    public var maxConnectionsPerAddress: Int
    /// Where the operator's HTTP API listens. Default: nil, which `vem manager` serves on `127.0.0.1:7401`
    /// (loopback); an address off loopback needs ``insecure`` (the API has no authentication yet).
    public var httpListen: HostPort?
    /// The journal file recording decisions and commands. Default: nil (kept in memory only).
    public var journal: String?
    /// Seconds the journal keeps decisions and finished commands (a Client's newest command and open ones are
    /// always kept). Default: 30 days.
    public var journalRetention: Int
    /// At most this many VMs booting at once over the whole site. Default: 4.
    public var maxBooting: Int
    /// At most this many VMs booting at once on one host. Default: 2.
    public var maxBootingPerHost: Int
    /// Placement of new VMs. Default: ``VEMCore/Placement/pack``.
    public var placement: Placement
    /// Evaluation steps one trigger may take before it is stopped. Default: 100 000; at most
    /// ``maximumStepBudget``.
    public var stepBudget: Int
    /// How long a group below its share may starve before running jobs are preempted. Default: 15 min.
    public var starvationGrace: Duration
    /// How long a VM must have been idle before it may be drained, when idle VMs are not kept
    /// (`keep_idle_vms = no`). Default: 5 min.
    public var idleTimeout: Duration
    /// Whether a group's idle VMs are kept until another group wants their room (then destroyed at once), rather
    /// than drained after `idle_timeout`. Default: yes — what `vem simulate` and `vem demo` run.
    public var keepIdleVMs: Bool
    /// How long a VM lives at least before it may be drained. Default: 10 min.
    public var minLifetime: Duration
    /// Whether the planner may live-migrate VMs to gather scattered free room. Default: yes.
    public var migration: Bool
    /// The libvirt URI a VM is migrated to, `{host}` standing for the destination host's Client name.
    /// Default: `qemu+ssh://{host}/system`.
    public var migrationURI: String
    /// Whether the Manager adds its default triggers (`vem.poll`, `vem.rebalance`) when groups are configured.
    /// A trigger of the same name in the configuration replaces the default one. Default: yes.
    public var defaultTriggers: Bool
    /// Seconds between two property rounds of the default `vem.poll` trigger. Default: 30.
    public var pollInterval: Int
    /// Seconds between two periodic `policy.rebalance()` of the default `vem.rebalance` trigger (which also
    /// runs whenever properties arrive). Default: 60.
    public var rebalanceInterval: Int
    /// Seconds a pool operation (a `vm.*` or batch command) may go without an outcome before it counts as
    /// failed (a live migration gets six times as long). Default: 300.
    public var operationTimeout: Int
    /// Seconds a created VM may wait for its Client to join before it is destroyed. Default: 600.
    public var bootTimeout: Int
    /// Seconds between two `vm.list` of a Dom0 Client (besides the one after each of its joins), by which the
    /// inventory is reconciled with the host's domains. Default: 60.
    public var hostListInterval: Int
    /// Seconds a batch node named like a VM of a group (`atlas-vm-12`) may exist with no VM in the inventory
    /// before it is removed (once idle). Default: 180.
    public var strayNodeGrace: Int
    /// Where the `[manager]` section is, when there was one.
    public var location: SourceLocation?

    /// The highest `step_budget` a site may set (for the Manager and for one trigger): 10,000,000.
    public static let maximumStepBudget = 10_000_000

    /// The keys a `[manager]` section accepts.
    public static let keys = [
        "bus", "listen", "token_file", "client_tokens", "insecure", "heartbeat_interval", "http_listen", "journal", "journal_retention",
        "max_booting",
        "max_booting_per_host", "placement", "step_budget", "starvation_grace", "idle_timeout", "keep_idle_vms",
        "min_lifetime", "migration", "migration_uri", "default_triggers", "poll_interval", "rebalance_interval",
        "operation_timeout", "boot_timeout", "host_list_interval", "stray_node_grace", "max_connections_per_address",
    ] + NATSSettings.managerKeys + TLSSettings.managerKeys + VMCredentialSettings.keys

    /// The default settings.
    public init() {
        bus = .hub
        listen = HostPort(host: "127.0.0.1", port: 7400)
        nats = NATSSettings()
        tokenFile = nil
        clientTokens = nil
        insecure = false
        tls = nil
        vmCredentials = nil
        heartbeatInterval = .seconds(5)
        maxConnectionsPerAddress = 64
        httpListen = nil
        journal = nil
        journalRetention = 30 * 86_400
        maxBooting = 4
        maxBootingPerHost = 2
        placement = .pack
        stepBudget = 100_000
        starvationGrace = .seconds(15 * 60)
        idleTimeout = .seconds(300)
        keepIdleVMs = true
        minLifetime = .seconds(600)
        migration = true
        migrationURI = "qemu+ssh://{host}/system"
        defaultTriggers = true
        pollInterval = 30
        rebalanceInterval = 60
        operationTimeout = 300
        bootTimeout = 600
        hostListInterval = 60
        strayNodeGrace = 180
        location = nil
    }
}

extension ManagerSettings {
    /// Decodes a `[manager]` section; nil (with errors logged) when it is invalid.
    static func decode(_ section: IniSection, log: inout DiagnosticLog) -> ManagerSettings? {
        var d = SectionDecoder(section, title: "[manager]", keys: keys)
        var m = ManagerSettings()
        m.location = section.location
        m.bus = d.choice("bus", as: BusKind.self) ?? m.bus
        m.listen = d.address("listen", allowPortZero: true) ?? m.listen
        m.nats = NATSSettings.decode(&d, bus: m.bus, manager: true)
        m.tokenFile = d.string("token_file")
        m.clientTokens = d.string("client_tokens")
        m.insecure = d.boolean("insecure") ?? m.insecure
        m.tls = TLSSettings.decode(&d, manager: true)
        m.vmCredentials = VMCredentialSettings.decode(&d, tls: m.tls)
        m.heartbeatInterval = d.duration("heartbeat_interval", minimumMilliseconds: 10) ?? m.heartbeatInterval
        m.maxConnectionsPerAddress =
            d.integer("max_connections_per_address", in: 1...1_000_000) ?? m.maxConnectionsPerAddress
        m.httpListen = d.address("http_listen", allowPortZero: true)
        m.journal = d.string("journal")
        m.journalRetention = d.seconds("journal_retention", in: 3_600...(3_660 * 86_400)) ?? m.journalRetention
        m.maxBooting = d.integer("max_booting", in: 1...10_000) ?? m.maxBooting
        m.maxBootingPerHost = d.integer("max_booting_per_host", in: 1...10_000) ?? m.maxBootingPerHost
        m.placement = d.choice("placement", as: Placement.self) ?? m.placement
        m.stepBudget = d.integer("step_budget", in: 1...Self.maximumStepBudget) ?? m.stepBudget
        m.starvationGrace = d.duration("starvation_grace", minimumMilliseconds: 0) ?? m.starvationGrace
        m.idleTimeout = d.duration("idle_timeout", minimumMilliseconds: 0) ?? m.idleTimeout
        m.keepIdleVMs = d.boolean("keep_idle_vms") ?? m.keepIdleVMs
        m.minLifetime = d.duration("min_lifetime", minimumMilliseconds: 0) ?? m.minLifetime
        m.migration = d.boolean("migration") ?? m.migration
        if let value = d.plain("migration_uri") {
            if value.text.contains("?") || value.text.contains("#") {
                d.error(
                    value,
                    "'migration_uri' may not carry a query string or fragment (libvirt reads options there, some "
                        + "of which run programs): use qemu+ssh://{host}/system or qemu+tls://{host}/system")
            } else if value.text.contains("://"), !value.text.contains(where: \.isWhitespace) {
                m.migrationURI = value.text
            } else {
                d.error(
                    value,
                    "invalid libvirt URI \(quoted(value.text)) for 'migration_uri': expected driver+transport://host/path, "
                        + "with {host} for the destination (qemu+ssh://{host}/system)")
            }
        }
        m.defaultTriggers = d.boolean("default_triggers") ?? m.defaultTriggers
        m.pollInterval = d.seconds("poll_interval", in: 1...86_400) ?? m.pollInterval
        m.rebalanceInterval = d.seconds("rebalance_interval", in: 1...86_400) ?? m.rebalanceInterval
        m.operationTimeout = d.seconds("operation_timeout", in: 1...(7 * 86_400)) ?? m.operationTimeout
        m.bootTimeout = d.seconds("boot_timeout", in: 1...(7 * 86_400)) ?? m.bootTimeout
        m.hostListInterval = d.seconds("host_list_interval", in: 1...86_400) ?? m.hostListInterval
        m.strayNodeGrace = d.seconds("stray_node_grace", in: 1...(7 * 86_400)) ?? m.strayNodeGrace
        d.finish()
        log.append(d.log)
        return d.log.hasErrors ? nil : m
    }
}
