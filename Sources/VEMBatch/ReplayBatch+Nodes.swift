/// One node inside the replay batch (kept after removal, for utilisation statistics).
struct NodeSlot: Sendable {
    var name: String
    var group: Int
    var cpus: Int
    var memoryMB: Int
    var allocated = 0
    var jobs = 0
    var draining = false
    var removed = false
    var registeredAt: Int
    var removedAt: Int?

    var state: NodeState {
        if draining { return jobs > 0 ? .draining : .drained }
        if allocated == 0 { return .idle }
        return allocated >= cpus ? .allocated : .mixed
    }

    func snapshot(
        group name: String, busyUntil: Int?, busySince: Int? = nil, requeuedJobs: Int = 0, requeuedWideJobs: Int = 0,
        workAtRisk: Int = 0
    ) -> BatchNode {
        BatchNode(
            name: self.name, group: name, cpus: cpus, memoryMB: memoryMB,
            allocatedCPUs: allocated, runningJobs: jobs, state: state, busyUntil: jobs > 0 ? busyUntil : nil,
            busySince: jobs > 0 ? busySince : nil, requeuedJobs: jobs > 0 ? requeuedJobs : nil,
            requeuedWideJobs: jobs > 0 ? requeuedWideJobs : nil,
            workAtRisk: jobs > 0 ? workAtRisk : nil
        )
    }
}

extension ReplayBatch {
    /// Registers a node at ``now``; its group's waiting jobs may start on it at once.
    ///
    /// A group unknown so far is created (it has no jobs). A removed node's name may be registered again.
    ///
    /// - Throws: ``BatchError`` (`duplicateNode`, `invalidArgument` for an empty name or group, fewer than
    ///   one CPU or negative memory).
    public mutating func register(_ registration: NodeRegistration) throws {
        guard !registration.name.isEmpty, !registration.group.isEmpty else {
            throw BatchError(.invalidArgument, "a node needs a name and a group")
        }
        guard registration.cpus >= 1, registration.memoryMB >= 0 else {
            throw BatchError(
                .invalidArgument, "node '\(registration.name)' needs at least 1 CPU and no negative memory")
        }
        guard nodeIndex[registration.name] == nil else {
            throw BatchError(.duplicateNode, "node '\(registration.name)' is already registered")
        }
        let g = groupSlot(named: registration.group)
        nodes.append(
            NodeSlot(
                name: registration.name, group: g, cpus: registration.cpus, memoryMB: registration.memoryMB,
                registeredAt: now
            ))
        let n = nodes.count - 1
        nodeIndex[registration.name] = n
        groups[g].nodes.append(n)
        groups[g].usableCPUs += registration.cpus
        groups[g].freeCPUs += registration.cpus
        schedule(g)
    }

    /// Registers several nodes at ``now`` (see ``register(_:)``).
    public mutating func register(_ registrations: [NodeRegistration]) throws {
        for r in registrations { try register(r) }
    }

    /// Drains a node at ``now``: it takes no new job; its running jobs finish. Draining again does nothing.
    ///
    /// - Parameter reason: Ignored by the replay (kept for the protocol).
    /// - Throws: ``BatchError`` (`unknownNode`).
    public mutating func drain(node name: String, reason: String = "") throws {
        let n = try activeNode(name)
        guard !nodes[n].draining else { return }
        let g = nodes[n].group
        nodes[n].draining = true
        groups[g].usableCPUs -= nodes[n].cpus
        groups[g].freeCPUs -= nodes[n].cpus - nodes[n].allocated
        schedule(g)
    }

    /// Lets a draining or drained node take jobs again, at ``now``. Resuming a node that takes jobs does nothing.
    ///
    /// - Throws: ``BatchError`` (`unknownNode`).
    public mutating func resume(node name: String) throws {
        let n = try activeNode(name)
        guard nodes[n].draining else { return }
        let g = nodes[n].group
        nodes[n].draining = false
        groups[g].usableCPUs += nodes[n].cpus
        groups[g].freeCPUs += nodes[n].cpus - nodes[n].allocated
        schedule(g)
    }

    /// Removes a node at ``now``. Allowed only when it runs no job (idle, or drained).
    ///
    /// - Throws: ``BatchError`` (`unknownNode`; `invalidNodeState` when it still runs jobs).
    public mutating func remove(node name: String) throws {
        let n = try activeNode(name)
        guard nodes[n].jobs == 0 else {
            throw BatchError(.invalidNodeState, "node '\(name)' still runs \(nodes[n].jobs) job(s); drain it and wait")
        }
        let g = nodes[n].group
        if !nodes[n].draining {
            groups[g].usableCPUs -= nodes[n].cpus
            groups[g].freeCPUs -= nodes[n].cpus
        }
        nodes[n].removed = true
        nodes[n].removedAt = now
        nodeIndex[name] = nil
        groups[g].nodes.removeAll { $0 == n }
        // A removal can make the head job impossible (no reservation any more): reschedule.
        schedule(g)
    }

    /// Marks a node down at ``now``, as Slurm's `scontrol update State=DOWN` does: its running jobs are requeued
    /// at once (``requeueJobs(onNode:)``) and it takes no new job. What the Manager's `downNode` does before it
    /// destroys a busy VM (a preemption) or when it finds one lost; `vem simulate` and the replay batch Client's
    /// `replay.down` both call it, so the model and the demo keep one policy.
    ///
    /// - Parameter reason: Ignored by the replay (kept for the protocol).
    /// - Returns: how many jobs were requeued.
    /// - Throws: ``BatchError`` (`unknownNode`).
    @discardableResult
    public mutating func down(node name: String, reason: String = "") throws -> Int {
        try requeueJobs(onNode: name)
    }

    /// The node's machine is gone (its VM destroyed under running jobs): every job running on it, wholly or
    /// partly, is killed and requeued at its place in its group's queue, as Slurm does with `JobRequeue=1` (or
    /// `scontrol requeue`). The work they did is lost (``lostCPUSeconds``); their wait, when they start again,
    /// still counts from their submission. The node takes no new job (it is drained) and may then be removed.
    ///
    /// - Returns: how many jobs were requeued.
    /// - Throws: ``BatchError`` (`unknownNode`).
    @discardableResult
    public mutating func requeueJobs(onNode name: String) throws -> Int {
        let n = try activeNode(name)
        try drain(node: name)
        let g = nodes[n].group
        let victims = groups[g].running.filter { r in
            allocations[r]?.contains { Int($0.node) == n } ?? false
        }
        for r in victims {
            let i = Int(r)
            for share in allocations.removeValue(forKey: r) ?? [] {
                let m = Int(share.node)
                nodes[m].allocated -= Int(share.cpus)
                nodes[m].jobs -= 1
                if !nodes[m].draining { groups[g].freeCPUs += Int(share.cpus) }
            }
            let pos = Int(runningIndex[i])
            let last = groups[g].running.removeLast()
            if Int(last) != i {
                groups[g].running[pos] = last
                runningIndex[Int(last)] = Int32(pos)
            }
            runningIndex[i] = -1
            groups[g].runningCPUs -= jobs[i].processors
            lostCPUSeconds += jobs[i].processors * Swift.max(0, now - startTime[i])
            requeuedJobs += 1
            requeues[i] &+= 1
            startTime[i] = -1
            status[i] = .pending
            // Back at its place: the live queue is in submission (index) order.
            let head = groups[g].head
            var k = groups[g].pending.count
            while k > head, Int(groups[g].pending[k - 1]) > i { k -= 1 }
            groups[g].pending.insert(r, at: k)
            groups[g].pendingCPUs += jobs[i].processors
            groups[g].pendingMemoryMB += jobs[i].memoryMB
        }
        markDirty(g)
        scheduleDirtyGroups()
        return victims.count
    }

    /// The state of a registered node, or `nil` when no node of that name is registered.
    public func state(of node: String) -> NodeState? {
        nodeIndex[node].map { nodes[$0].state }
    }

    private func activeNode(_ name: String) throws -> Int {
        guard let n = nodeIndex[name] else { throw BatchError(.unknownNode, "no node named '\(name)' is registered") }
        return n
    }

    /// The nodes of a static partitioning (the paper's fig. 1): `nodesPerGroup` nodes for each group, named
    /// `<group>-<i>` with `i` from 1, zero-padded to the width of `nodesPerGroup` (`atlas-01` … `atlas-10`).
    public static func staticPartitions(
        groups: [String], nodesPerGroup: Int, cpusPerNode: Int, memoryMB: Int = 0
    ) -> [NodeRegistration] {
        let width = String(Swift.max(1, nodesPerGroup)).count
        return groups.flatMap { group in
            (0..<Swift.max(0, nodesPerGroup)).map { i in
                let digits = String(i + 1)
                let name = group + "-" + String(repeating: "0", count: width - digits.count) + digits
                return NodeRegistration(name: name, group: group, cpus: cpusPerNode, memoryMB: memoryMB)
            }
        }
    }
}
