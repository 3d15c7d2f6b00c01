extension Reconciler {
    /// Moves time on: no stage waits forever. Returns the operations that follow.
    ///
    /// - an operation without an outcome for `operationTimeout` (a migration: `migrationTimeout`) fails as timed
    ///   out (``onFailed(_:message:now:)``'s rules; a create that timed out is destroyed, since it may have made
    ///   the VM);
    /// - a registration or a destroy whose back-off has passed is tried again;
    /// - a VM created whose Client has not joined within `bootTimeout` is destroyed.
    ///
    /// Called by every ``rebalance(batch:hosts:now:planner:)``, and by a Shell on its own between them.
    public mutating func tick(now: Int) -> [PoolOperation] {
        var operations: [PoolOperation] = []
        issuedAt = issuedAt.filter { inFlight[$0.key] != nil }
        for op in operationsInFlight {
            guard let issued = issuedAt[op.id] else { continue }
            let limit: Int
            if case .migrateVM = op.kind {
                limit = configuration.migrationTimeout
            } else {
                limit = configuration.operationTimeout
            }
            guard now - issued >= limit else { continue }
            operations += fail(
                op.id, message: "no outcome after \(now - issued) s: timed out", now: now, timedOut: true)
        }
        // Only the VMs with something due are looked at, in name order (operation numbers and the log follow
        // it): a retry whose time has come, or a guest still awaited. Sorting every VM's name and storing each
        // again was a millisecond of every rebalance at 2,000 VMs.
        var due: [String] = []
        for vm in vms.values where vm.pending == nil && !vm.gone {
            if (vm.retryAt.map { $0 <= now } ?? false) || (vm.stage == .booting && !vm.clientJoined) {
                due.append(vm.id)
            }
        }
        for id in due.sorted() {
            guard var vm = vms[id], vm.pending == nil, !vm.gone else { continue }
            if let at = vm.retryAt, at <= now {
                vm.retryAt = nil
                switch vm.stage {
                case .registering where !vm.registered:
                    operations.append(issue(.registerNode(registration(of: vm)), for: &vm, now: now))
                case .destroying:
                    operations.append(issue(.destroyVM(host: vm.host), for: &vm, now: now))
                default: break
                }
            }
            if vm.stage == .booting, !vm.clientJoined {
                let since = vm.stageSince ?? now
                vm.stageSince = since
                if now - since >= configuration.bootTimeout {
                    vm.stage = .destroying
                    operations.append(issue(.destroyVM(host: vm.host), for: &vm, now: now))
                    log(
                        .destroy, vm, host: vm.host, now: now,
                        "its Client did not join within \(configuration.bootTimeout) s of its creation")
                }
            }
            store(vm)
        }
        return operations
    }

    /// Whether an operation's error says its object is already absent (`not_found: …` from a Client's plugin:
    /// no such domain on the host, no such node in the batch system).
    public static func isAbsence(_ message: String) -> Bool { message.hasPrefix("not_found") }
}

extension PoolOperation {
    /// A destroy or a node removal: done when its object is absent.
    var endsAnObject: Bool {
        switch kind {
        case .destroyVM, .removeNode: true
        case .createVM, .registerNode, .drainNode, .migrateVM, .downNode: false
        }
    }
}
