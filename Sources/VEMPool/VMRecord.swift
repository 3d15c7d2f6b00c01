import VEMPolicy

/// One VM of the inventory, as the Manager knows it: what the planner's ``VEMPolicy/VMState`` is built from,
/// before the batch system says whether it is busy.
public struct VMRecord: Sendable, Hashable, Codable {
    /// The VM's id, which is also its name and its batch node's name (`atlas-vm-12`).
    public var id: String
    /// The group it serves.
    public var group: String
    /// The host it runs on.
    public var host: String
    /// Booting (not yet a batch node), active or draining.
    public var phase: VMState.Phase
    /// When it was created (seconds on the Manager's clock).
    public var createdAt: Int
    /// Since when it has been idle; `nil` while busy or before it was first seen idle (then `createdAt`).
    public var idleSince: Int?
    /// vCPUs.
    public var cpus: Int
    /// Memory, in MiB.
    public var memoryMiB: Int
    /// The host a running live migration moves it to.
    public var migratingTo: String?

    /// Creates a record.
    public init(
        id: String, group: String, host: String, phase: VMState.Phase, createdAt: Int, idleSince: Int? = nil,
        cpus: Int, memoryMiB: Int, migratingTo: String? = nil
    ) {
        self.id = id
        self.group = group
        self.host = host
        self.phase = phase
        self.createdAt = createdAt
        self.idleSince = idleSince
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.migratingTo = migratingTo
    }
}
