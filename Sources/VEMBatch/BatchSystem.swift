/// A batch system as VEM sees it: per-group demand in, node registration and draining out.
///
/// VEM works *beside* the batch system's scheduler, never inside it. It reads a ``BatchSnapshot`` (for each
/// group: the pending and running jobs and the nodes serving it) and feeds it to the Manager's planner; it
/// then acts on nodes only: a freshly booted VM is *registered* as a node of its group, a surplus VM is
/// *drained* (it finishes its jobs and takes no new one), *resumed* if it is wanted again, and *removed* once
/// it is empty, before its VM is destroyed.
///
/// Two implementations: ``ReplayBatch`` (a simulated batch system replaying an SWF trace; the embedded default
/// for the demo and for simulation) and a Slurm driver (a later module). How a group is expressed in the
/// batch system is configuration, a ``GroupMapping``.
///
/// The requirements are `mutating` and `async` so that both a value type (the replay batch, whose methods
/// are synchronous) and an actor or a class driving real commands can conform.
public protocol BatchSystem: Sendable {
    /// The current demand and nodes of every group.
    ///
    /// - Throws: ``BatchError`` when the batch system cannot be queried.
    mutating func snapshot() async throws -> BatchSnapshot

    /// Makes a new node known to the batch system as a node of `registration.group`; it starts taking that
    /// group's jobs at once.
    ///
    /// - Throws: ``BatchError`` (`duplicateNode` when the name is taken, `invalidArgument` for a bad size).
    mutating func register(_ registration: NodeRegistration) async throws

    /// Drains a node: it takes no new job and finishes the ones it runs. Draining a draining or drained
    /// node does nothing.
    ///
    /// - Parameters:
    ///   - node: The node's name.
    ///   - reason: Why, for the batch system's records (Slurm's `Reason=`).
    /// - Throws: ``BatchError`` (`unknownNode`).
    mutating func drain(node: String, reason: String) async throws

    /// Lets a draining or drained node take jobs again. Resuming a node that takes jobs does nothing.
    ///
    /// - Throws: ``BatchError`` (`unknownNode`, `invalidNodeState` for a node that is down).
    mutating func resume(node: String) async throws

    /// Forgets a node. Allowed only when it runs no job and is idle or drained.
    ///
    /// - Throws: ``BatchError`` (`unknownNode`, `invalidNodeState` when the node still runs jobs or has
    ///   not been drained while it had some).
    mutating func remove(node: String) async throws
}
