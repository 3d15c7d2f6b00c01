import VEMAgent
import VEMLibvirt

/// How one group's VMs are built on this host: its domain template and default size and boot files.
public struct GroupVMDefinition: Sendable {
    /// The group's domain template.
    public var template: DomainTemplate
    /// The default memory of a new VM, in MiB.
    public var memoryMiB: Int
    /// The default number of virtual CPUs.
    public var vcpus: Int
    /// The kernel for direct kernel boot (`{{kernel}}`), if the template uses one.
    public var kernel: String?
    /// The initrd (`{{initrd}}`), if the template uses one.
    public var initrd: String?
    /// The disk image (`{{disk}}`), if the template uses one.
    public var disk: String?
    /// Values of the template's extra placeholders. `{vm}` and `{name}` in a value are replaced by the VM's
    /// id and domain name (so that `console_log = /var/log/vem/{name}.log` is per VM).
    public var extra: [String: String]

    /// Creates a definition.
    public init(
        template: DomainTemplate, memoryMiB: Int, vcpus: Int, kernel: String? = nil, initrd: String? = nil,
        disk: String? = nil, extra: [String: String] = [:]
    ) {
        self.template = template
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.kernel = kernel
        self.initrd = initrd
        self.disk = disk
        self.extra = extra
    }
}

/// The Client's hypervisor: its URI, the groups' VM definitions, and one shared libvirt connection that is
/// opened on first use and reopened when it has died.
public actor HypervisorHost {
    /// What the host needs to know.
    public struct Configuration: Sendable {
        /// The hypervisor's URI (`qemu:///system`, `xen:///system`, `test:///path/host.xml`).
        public var uri: String
        /// Each group's VM definition, by group name.
        public var groups: [String: GroupVMDefinition]
        /// The Manager's address, passed to guests as `vem.manager=`.
        public var manager: String?
        /// How long a guest may take to shut down before it is destroyed. Default 30 s.
        public var shutdownTimeout: Duration = .seconds(30)
        /// Destination URIs `vm.migrate` accepts besides plain `qemu+ssh://host/path` and `qemu+tls://host/path`
        /// (compared exactly; the site's `[client] migration_destinations`). Default: none.
        public var migrationDestinations: Set<String> = []

        /// Creates a configuration.
        public init(uri: String, groups: [String: GroupVMDefinition] = [:], manager: String? = nil) {
            self.uri = uri
            self.groups = groups
            self.manager = manager
        }
    }

    /// The configuration.
    public let configuration: Configuration
    private var open: LibvirtConnection?

    /// Creates a host; nothing is opened until first use.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The connection, opened (or reopened when it is no longer alive) as needed.
    /// - Throws: `LibvirtError` `.connectionFailed` when the hypervisor does not answer.
    public func connection() async throws -> LibvirtConnection {
        if let open, await open.isAlive() { return open }
        if let stale = open {
            open = nil
            await stale.close()
        }
        let fresh = try await LibvirtConnection.open(configuration.uri)
        if let raced = open {
            await fresh.close()
            return raced
        }
        open = fresh
        return fresh
    }

    /// Lifecycle events of this host's domains (for the agent to send to the Manager as `event` messages).
    public func lifecycleEvents() async throws -> AsyncStream<DomainEvent> {
        try await connection().lifecycleEvents()
    }

    /// Closes the connection (it is reopened on next use).
    public func close() async {
        if let open {
            self.open = nil
            await open.close()
        }
    }
}

extension AgentError {
    /// An agent error carrying a driver error: code `libvirt.<code>`, libvirt's message.
    init(_ error: any Error, doing what: String) {
        if let e = error as? LibvirtError {
            // A driver timeout is the agent's timeout (the Runner reports it as a `timeout` outcome).
            let code = e.code == .timeout ? Code.timeout : Code(rawValue: "libvirt.\(e.code.rawValue)")
            self.init(code, "\(what): \(e.message)", cause: e.operation)
        } else if let e = error as? AgentError {
            self = e
        } else {
            self.init(.systemCall, "\(what) failed", cause: "\(error)")
        }
    }
}
