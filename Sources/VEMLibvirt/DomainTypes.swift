/// A host's hardware as the hypervisor reports it.
public struct NodeInfo: Hashable, Sendable, Codable {
    /// The CPU model (`x86_64`).
    public var model: String
    /// The number of active CPUs.
    public var cpus: Int
    /// The CPU frequency in MHz.
    public var mhz: Int
    /// The host's memory, in KiB.
    public var memoryKiB: UInt64
    /// The host's free memory as the hypervisor reports it, in KiB (`virNodeGetFreeMemory`).
    public var freeMemoryKiB: UInt64

    /// Creates a value.
    public init(model: String, cpus: Int, mhz: Int, memoryKiB: UInt64, freeMemoryKiB: UInt64) {
        self.model = model
        self.cpus = cpus
        self.mhz = mhz
        self.memoryKiB = memoryKiB
        self.freeMemoryKiB = freeMemoryKiB
    }
}

/// A domain's state (libvirt's `virDomainState`).
public enum DomainState: String, Hashable, Sendable, Codable, CaseIterable {
    /// No state.
    case noState = "nostate"
    /// Running.
    case running
    /// Blocked on a resource.
    case blocked
    /// Paused by the user (or during migration).
    case paused
    /// Being shut down.
    case shutdown
    /// Shut off (defined but not running).
    case shutoff
    /// Crashed.
    case crashed
    /// Suspended by guest power management.
    case pmSuspended = "pmsuspended"

    /// The state for a libvirt `virDomainState` number (unknown numbers give `.noState`).
    public init(libvirtState: Int32) {
        switch libvirtState {
        case 1: self = .running
        case 2: self = .blocked
        case 3: self = .paused
        case 4: self = .shutdown
        case 5: self = .shutoff
        case 6: self = .crashed
        case 7: self = .pmSuspended
        default: self = .noState
        }
    }

    /// True for the states in which the guest exists in the hypervisor (running, blocked, paused, …).
    public var isActive: Bool { self != .shutoff && self != .noState && self != .crashed }
}

/// One domain, as listed.
public struct DomainInfo: Hashable, Sendable, Codable {
    /// The domain's name.
    public var name: String
    /// The domain's UUID (lower-case, with dashes).
    public var uuid: String
    /// The hypervisor's numeric id while the domain runs, else nil.
    public var id: UInt32?
    /// The domain's state.
    public var state: DomainState
    /// The memory currently given to the domain, in KiB.
    public var memoryKiB: UInt64
    /// The number of virtual CPUs.
    public var vcpus: Int
    /// True when the domain has a persistent definition (it survives being stopped).
    public var persistent: Bool
    /// VEM's metadata, when VEM created the domain; nil for domains that are not VEM's.
    public var instance: VEMInstance?

    /// Creates a value.
    public init(
        name: String, uuid: String, id: UInt32?, state: DomainState, memoryKiB: UInt64, vcpus: Int,
        persistent: Bool, instance: VEMInstance?
    ) {
        self.name = name
        self.uuid = uuid
        self.id = id
        self.state = state
        self.memoryKiB = memoryKiB
        self.vcpus = vcpus
        self.persistent = persistent
        self.instance = instance
    }
}

/// How a graceful shutdown ended.
public enum ShutdownOutcome: String, Hashable, Sendable, Codable {
    /// The guest powered off by itself within the timeout.
    case graceful
    /// The guest did not power off in time and was destroyed (powered off hard).
    case destroyed
    /// The domain was not running.
    case notRunning = "not_running"
}

/// How to migrate a domain.
public struct MigrationOptions: Hashable, Sendable, Codable {
    /// Live migration: the guest keeps running while its memory is copied. Default true.
    public var live = true
    /// Define the domain persistently on the destination. Default true.
    public var persistOnDestination = true
    /// Remove the source's persistent definition after success. Default true.
    public var undefineSource = true
    /// Peer-to-peer: the source libvirtd connects to the destination itself (the destination URI must then be
    /// one the *source daemon* can reach, such as `qemu+unix:///system?socket=…` or `qemu+ssh://host/system`).
    /// Default false: this process opens the destination connection and drives the migration.
    public var peerToPeer = false
    /// The hypervisor's own migration address (`tcp://10.0.0.2`), when the destination's host name does not
    /// resolve to the right address. Default nil.
    public var migrationURI: String?
    /// How long the migration may take before it is aborted (the guest then stays on the source). Default
    /// nil: no limit besides cancelling the calling task.
    public var timeout: Duration?

    /// Creates options with the defaults.
    public init() {}

    var withoutTimeout: MigrationOptions {
        var copy = self
        copy.timeout = nil
        return copy
    }
}

/// A domain lifecycle event (libvirt's `VIR_DOMAIN_EVENT_ID_LIFECYCLE`).
public struct DomainEvent: Hashable, Sendable, Codable {
    /// What happened.
    public enum Kind: String, Hashable, Sendable, Codable {
        /// The domain was defined (or its definition updated).
        case defined
        /// The domain's definition was removed.
        case undefined
        /// The domain started (booted, restored, or arrived by migration).
        case started
        /// The domain was paused.
        case suspended
        /// The domain was resumed.
        case resumed
        /// The domain stopped (shut down, destroyed, crashed, migrated away, saved).
        case stopped
        /// The guest began or finished shutting down.
        case shutdown
        /// The guest was suspended by power management.
        case pmSuspended = "pmsuspended"
        /// The guest crashed.
        case crashed
        /// An event number this driver does not know.
        case unknown

        /// The kind for a libvirt `virDomainEventType` number.
        public init(libvirtEvent: Int32) {
            switch libvirtEvent {
            case 0: self = .defined
            case 1: self = .undefined
            case 2: self = .started
            case 3: self = .suspended
            case 4: self = .resumed
            case 5: self = .stopped
            case 6: self = .shutdown
            case 7: self = .pmSuspended
            case 8: self = .crashed
            default: self = .unknown
            }
        }
    }

    /// The domain's name.
    public var domain: String
    /// The domain's UUID.
    public var uuid: String
    /// What happened.
    public var kind: Kind
    /// libvirt's detail number for the event (for `stopped`: 0 shutdown, 1 destroyed, 2 crashed, 3 migrated…).
    public var detail: Int32

    /// Creates an event.
    public init(domain: String, uuid: String, kind: Kind, detail: Int32) {
        self.domain = domain
        self.uuid = uuid
        self.kind = kind
        self.detail = detail
    }

    /// A short name for the detail of `started` and `stopped` events (`booted`, `migrated`, `destroyed`…),
    /// else the number.
    public var detailName: String {
        switch (kind, detail) {
        case (.started, 0): "booted"
        case (.started, 1): "migrated"
        case (.started, 2): "restored"
        case (.stopped, 0): "shutdown"
        case (.stopped, 1): "destroyed"
        case (.stopped, 2): "crashed"
        case (.stopped, 3): "migrated"
        case (.stopped, 4): "saved"
        case (.stopped, 5): "failed"
        default: String(detail)
        }
    }
}
