import VEMBatch

extension Reconciler {
    /// Reads a batch snapshot: each VM's node busy or idle (an idle VM's `idleSince` starts when it is first
    /// seen idle), nodes that disappeared from the batch system, and the removal, retried, of nodes whose VM is
    /// gone.
    public mutating func observe(_ batch: BatchSnapshot, now: Int) -> [PoolOperation] {
        var nodes: [String: BatchNode] = [:]
        for g in batch.groups { for n in g.nodes { nodes[n.name] = n } }
        // Most VMs only take their node's state (busy or idle): they are updated in place, in storage order.
        // The others — a VM gone, or registered without a node — may issue an operation or log a decision, whose
        // numbers and order follow the VMs' names: they are handled after, in name order, as every VM was before
        // (sorting all 2,000 names and storing each VM again was a millisecond of every rebalance).
        var ordered: [String] = []
        var i = vms.startIndex
        while i != vms.endIndex {
            let vm = vms.values[i]
            let node = nodes[vm.id]
            if vm.gone || (vm.registered && node == nil) {
                ordered.append(vm.id)
            } else if let node {
                var updated = vm
                _ = Self.take(node, into: &updated, batchTime: batch.time, now: now)
                if updated != vm {
                    vms.values[i] = updated
                    changedVMs.insert(vm.id)
                }
            }
            vms.formIndex(after: &i)
        }
        var operations: [PoolOperation] = []
        for id in ordered.sorted() {
            guard var vm = vms[id] else { continue }
            if vm.gone, !vm.registered, let after = vm.nodeCheckAfter, vm.pending == nil, batch.time >= after {
                // Gone before VEM registered its node: did its guest leave one behind?
                guard nodes[id] != nil else {
                    forget(id)
                    continue
                }
                vm.nodeCheckAfter = nil
                vm.registered = true
                vm.seenInBatch = true
                vm.registeredAt = batch.time
                log(.lost, vm, now: now, "its guest's node stayed in the batch system after the VM was gone: removed")
            }
            if let node = nodes[id] {
                let (busy, stale) = Self.take(node, into: &vm, batchTime: batch.time, now: now)
                if vm.gone, vm.registered, vm.pending == nil, !busy, !stale {
                    vm.stage = .removing
                    operations.append(issue(.removeNode, for: &vm, now: now))
                }
            } else if vm.registered, vm.seenInBatch, vm.pending == nil, batch.time > (vm.registeredAt ?? Int.min) {
                // The batch system forgot the node (removed by hand, or a batch restart). A snapshot taken before
                // the registration was confirmed proves nothing: a Shell may hold one while outcomes arrive. Nor
                // does one before the node first showed up (Slurm hides it until the VM's slurmd starts).
                vm.registered = false
                vm.seenInBatch = false
                vm.busy = false
                if vm.stage == .active { vm.stage = .booting }
                if vm.gone {
                    forget(id)
                    continue
                }
                if vm.stage == .booting, vm.clientJoined {
                    vm.stage = .registering
                    operations.append(issue(.registerNode(registration(of: vm)), for: &vm, now: now))
                }
            }
            store(vm)
        }
        operations += removeStrayNodes(nodes, batch: batch, now: now)
        return operations
    }

    /// A VM takes its batch node's state: seen (when registered), busy or idle since `now`. Idle on a snapshot
    /// (taken at `batchTime`) older than the VM's drain proves nothing — a job may have started between the two —:
    /// it changes nothing (`stale`), and the planner's snapshot shows the VM busy until a newer one says idle.
    static func take(
        _ node: BatchNode, into vm: inout ManagedVM, batchTime: Int, now: Int
    ) -> (busy: Bool, stale: Bool) {
        if vm.registered { vm.seenInBatch = true }
        let busy = PoolSnapshotBuilder.isBusy(node)
        let stale = !busy && batchTime < (vm.drainedAt ?? Int.min)
        if busy {
            vm.idleSince = nil
        } else if !stale, vm.busy || vm.idleSince == nil {
            vm.idleSince = now
        }
        if !stale { vm.busy = busy }
        return (busy, stale)
    }

    /// The hypervisor reports the VM running. Informational: registration waits for its Client.
    public mutating func onVMBooted(_ id: String, now: Int) {
        guard var vm = vms[id], vm.bootedAt == nil else { return }
        vm.bootedAt = now
        store(vm)
    }

    /// The VM's Client joined the bus: its node is registered with the batch system (once its creation is
    /// confirmed).
    public mutating func onClientJoined(_ id: String, now: Int) -> [PoolOperation] {
        guard var vm = vms[id], !vm.gone else { return [] }
        vm.clientJoined = true
        if vm.bootedAt == nil { vm.bootedAt = now }
        var operations: [PoolOperation] = []
        if vm.stage == .booting, vm.pending == nil, !vm.registered {
            vm.stage = .registering
            operations.append(issue(.registerNode(registration(of: vm)), for: &vm, now: now))
        }
        store(vm)
        return operations
    }

    /// An operation succeeded; returns what follows from it. Unknown or already settled ids are ignored.
    public mutating func onSucceeded(_ operation: Int, now: Int) -> [PoolOperation] {
        guard let op = inFlight.removeValue(forKey: operation), var vm = vms[op.vm] else { return [] }
        if vm.pending == operation { vm.pending = nil }
        var operations: [PoolOperation] = []
        switch op.kind {
        case .createVM:
            counters.created += 1
            if vm.stage == .creating {
                vm.stage = .booting
                vm.stageSince = now
            }
            if vm.clientJoined, vm.stage == .booting {
                vm.stage = .registering
                operations.append(issue(.registerNode(registration(of: vm)), for: &vm, now: now))
            }
        case .registerNode:
            vm.registered = true
            vm.seenInBatch = false
            vm.registeredAt = now
            if vm.stage == .registering {
                vm.stage = .active
                vm.idleSince = now
                log(.register, vm, host: vm.host, now: now, "its Client joined; node of \(vm.group) takes jobs")
            }
        case .drainNode:
            counters.drained += 1
            vm.drainedAt = now
        case .downNode:
            vm.markedDown = true
            vm.markDown = false
            if !vm.gone, vm.stage == .destroying {
                // A preemption's down: now the VM may die.
                operations.append(issue(.destroyVM(host: vm.host), for: &vm, now: now))
            }
        case .removeNode:
            vm.registered = false
            vm.seenInBatch = false
            vm.busy = false
            if !vm.gone {
                vm.stage = .destroying
                operations.append(issue(.destroyVM(host: vm.host), for: &vm, now: now))
            }
        case .destroyVM:
            counters.destroyed += 1
            // A preempted VM's node may show idle since its down (its jobs requeued): it was destroyed busy all the
            // same.
            if vm.busy || vm.markedDown { counters.busyDestroyed += 1 }
            vm.gone = true
        case .migrateVM(_, let to):
            counters.migrated += 1
            vm.host = to
            vm.migratingTo = nil
        }
        operations += settle(&vm, now: now)
        return operations
    }

    /// An operation failed (or its outcome is unknown: the Client's incarnation ended); returns what follows.
    ///
    /// A destroy or a node removal that finds its object already absent (`not_found: …`) counts as done. A
    /// failed create forgets the VM; a failed registration is retried after a back-off
    /// (``Configuration/backoff(attempt:)``) up to `maxRegisterAttempts` times, then the VM is destroyed; a
    /// failed drain leaves the VM active; a failed node removal leaves it draining (the next plan asks again;
    /// for a VM that is gone, the next batch snapshot); a failed destroy is retried after a back-off, and after
    /// `maxAttempts` the VM is forgotten; a failed migration leaves it where it was; a preemption's failed down
    /// is followed by the destroy all the same (a lost VM's is not asked again).
    public mutating func onFailed(_ operation: Int, message: String, now: Int) -> [PoolOperation] {
        fail(operation, message: message, now: now, timedOut: false)
    }

    /// ``onFailed(_:message:now:)``; `timedOut` when no outcome came in time (a create that timed out may
    /// have made the VM: it is destroyed rather than forgotten).
    mutating func fail(_ operation: Int, message: String, now: Int, timedOut: Bool) -> [PoolOperation] {
        guard let op = inFlight[operation], var vm = vms[op.vm] else {
            inFlight[operation] = nil
            return []
        }
        if op.endsAnObject, Self.isAbsence(message) {
            log(.lost, vm, host: vm.host, now: now, "\(op): already absent (\(message)); counts as done")
            return onSucceeded(operation, now: now)
        }
        inFlight[operation] = nil
        if vm.pending == operation { vm.pending = nil }
        counters.failed += 1
        log(.failed, vm, now: now, "\(op) failed: \(message)")
        var operations: [PoolOperation] = []
        switch op.kind {
        case .createVM:
            guard timedOut else {
                forget(vm.id)
                return []
            }
            vm.stage = .destroying
            operations.append(issue(.destroyVM(host: vm.host), for: &vm, now: now))
            log(.destroy, vm, host: vm.host, now: now, "its creation had no outcome: destroyed in case it was made")
        case .registerNode:
            vm.registerAttempts += 1
            if vm.gone { break }
            if vm.registerAttempts < configuration.maxRegisterAttempts {
                vm.stage = .registering
                vm.retryAt = now + configuration.backoff(attempt: vm.registerAttempts)
            } else {
                vm.stage = .destroying
                operations.append(issue(.destroyVM(host: vm.host), for: &vm, now: now))
                log(
                    .destroy, vm, host: vm.host, now: now,
                    "its node could not be registered (\(vm.registerAttempts) attempts)")
            }
        case .drainNode:
            if vm.stage == .draining { vm.stage = .active }
        case .downNode:
            // A lost VM's node: its removal still follows once the node is idle. A preemption's: the destroy is
            // not given up (the planner counted its room as freeing); the batch system ends the VM's jobs when its
            // daemon stops answering, as it would without the down.
            if !vm.gone, vm.stage == .destroying {
                operations.append(issue(.destroyVM(host: vm.host), for: &vm, now: now))
                log(.destroy, vm, host: vm.host, now: now, "destroyed although its node could not be marked down")
            }
        case .removeNode:
            if !vm.gone {
                vm.stage = .draining
            } else {
                vm.attempts += 1
                if vm.attempts >= configuration.maxAttempts {
                    log(.forget, vm, now: now, "its node could not be removed (\(vm.attempts) attempts): forgotten")
                    forget(vm.id)
                    return []
                }
            }
        case .destroyVM:
            guard !vm.gone else { break }
            vm.attempts += 1
            if vm.attempts >= configuration.maxAttempts {
                log(
                    .forget, vm, host: vm.host, now: now,
                    "\(vm.host) did not confirm its destroy (\(vm.attempts) attempts): forgotten until a host "
                        + "reports it")
                forget(vm.id)
                return []
            }
            vm.stage = .destroying
            vm.retryAt = now + configuration.backoff(attempt: vm.attempts)
        case .migrateVM:
            vm.migratingTo = nil
        }
        operations += settle(&vm, now: now)
        return operations
    }

    /// The hypervisor reports the VM gone. Expected after a destroy (then it settles that operation); otherwise
    /// the VM was lost (crash, or destroyed by hand): it is logged and its node removed (marked down first when
    /// it runs jobs, so the batch system starts none there and ends those it ran).
    public mutating func onVMDestroyed(_ id: String, now: Int) -> [PoolOperation] {
        guard let vm = vms[id], !vm.gone else { return [] }
        if let p = vm.pending, let op = inFlight[p], case .destroyVM = op.kind { return onSucceeded(p, now: now) }
        return lose(id, "vanished from \(vm.host)", now: now)
    }

    /// The host is gone: its Dom0 Client has been away for the Manager's grace, and the VMs' guests too. Each VM
    /// on it that is not in `keep` (its guest still connected) and not migrating is lost, as when the host stops
    /// listing it: logged, its node marked down when it runs jobs and removed once idle. A host that comes back
    /// and lists one of them running has it adopted again.
    public mutating func onHostLost(_ host: String, keep: Set<String>, absentFor seconds: Int, now: Int)
        -> [PoolOperation]
    {
        var operations: [PoolOperation] = []
        for id in vms.keys.sorted() {
            guard let vm = vms[id], vm.host == host, !vm.gone, vm.nodeCheckAfter == nil, vm.migratingTo == nil,
                !keep.contains(id)
            else { continue }
            operations += lose(id, "\(host) is gone (no Dom0 Client for \(seconds) s) and so is its guest", now: now)
        }
        return operations
    }

    /// A VM found lost (`reason` says how): logged, marked gone, its node marked down or removed (``settle``).
    mutating func lose(_ id: String, _ reason: String, now: Int) -> [PoolOperation] {
        guard var vm = vms[id], !vm.gone else { return [] }
        counters.destroyed += 1
        if vm.busy { counters.busyDestroyed += 1 }
        log(.lost, vm, host: vm.host, now: now, reason + (vm.busy ? " while running a job" : ""))
        vm.gone = true
        vm.markDown = true
        vm.migratingTo = nil
        if let p = vm.pending, let op = inFlight[p], !op.isBatch {
            inFlight[p] = nil  // its outcome no longer matters
            vm.pending = nil
        }
        let operations = settle(&vm, now: now)
        return operations
    }

    /// For a VM that is gone: remove its node when nothing is under way, or forget it once it has none. Stores
    /// the VM back (or removes it) either way.
    mutating func settle(_ vm: inout ManagedVM, now: Int) -> [PoolOperation] {
        guard vm.gone else {
            store(vm)
            return []
        }
        guard vm.pending == nil else {
            store(vm)
            return []
        }
        guard vm.registered else {
            if vm.registeredAt == nil {
                // Never registered by VEM: kept until a batch snapshot says whether its guest registered a node.
                vm.nodeCheckAfter = vm.nodeCheckAfter ?? now
                store(vm)
            } else {
                forget(vm.id)
            }
            return []
        }
        if vm.busy {
            // The batch system refuses to remove a node that still runs a job; retried from observe(). A lost VM's
            // node is marked down first: its jobs died with it, and no new one may start there meanwhile.
            vm.stage = .removing
            if vm.markDown, !vm.isStrayNode {
                vm.markDown = false
                let op = issue(.downNode(reason: "vem: \(vm.id) lost"), for: &vm, now: now)
                store(vm)
                return [op]
            }
            store(vm)
            return []
        }
        vm.stage = .removing
        let op = issue(.removeNode, for: &vm, now: now)
        store(vm)
        return [op]
    }
}
