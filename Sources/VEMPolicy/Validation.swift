extension PoolSnapshot {
    /// Checks that the snapshot is one the planner can reason about.
    /// - Throws: ``PolicyError`` (`invalid_snapshot`) naming the first offending record.
    public func validate() throws(PolicyError) {
        func fail(_ message: String) -> PolicyError { PolicyError(.invalidSnapshot, message) }
        var names: Set<String> = []
        for g in groups {
            guard !g.name.isEmpty else { throw fail("a group has an empty name") }
            guard names.insert(g.name).inserted else { throw fail("group \(g.name) appears twice") }
            guard g.share.isFinite, g.share > 0 else {
                throw fail("group \(g.name): share must be > 0, not \(g.share)")
            }
            guard g.vmCPUs >= 1 else { throw fail("group \(g.name): vm_cpus must be at least 1, not \(g.vmCPUs)") }
            guard g.vmMemoryMiB >= 0 else {
                throw fail("group \(g.name): vm memory must be >= 0, not \(g.vmMemoryMiB)")
            }
            guard g.minVMs >= 0 else { throw fail("group \(g.name): min_vms must be >= 0, not \(g.minVMs)") }
            if let max = g.maxVMs, max < g.minVMs {
                throw fail("group \(g.name): max_vms \(max) is below min_vms \(g.minVMs)")
            }
            let counts = [
                ("pending CPUs", g.pendingCPUs), ("pending jobs", g.pendingJobs), ("running CPUs", g.runningCPUs),
                ("running jobs", g.runningJobs), ("oldest pending wait", g.oldestPendingWait),
            ]
            for (what, value) in counts where value < 0 {
                throw fail("group \(g.name): \(what) must be >= 0, not \(value)")
            }
        }
        var hostNames: Set<String> = []
        for h in hosts {
            guard !h.name.isEmpty else { throw fail("a host has an empty name") }
            guard hostNames.insert(h.name).inserted else { throw fail("host \(h.name) appears twice") }
            for (what, value) in [
                ("cpus", h.cpus), ("memory", h.memoryMiB), ("free cpus", h.freeCPUs), ("free memory", h.freeMemoryMiB),
            ] where value < 0 {
                throw fail("host \(h.name): \(what) must be >= 0, not \(value)")
            }
        }
        var ids: Set<String> = []
        for vm in vms {
            guard !vm.id.isEmpty else { throw fail("a VM has an empty id") }
            guard ids.insert(vm.id).inserted else { throw fail("VM \(vm.id) appears twice") }
            guard vm.cpus >= 0, vm.memoryMiB >= 0 else { throw fail("VM \(vm.id): size must be >= 0") }
        }
    }
}

extension PolicyConfiguration {
    /// Checks that every limit and duration is in range.
    /// - Throws: ``PolicyError`` (`invalid_configuration`) naming the first offending value.
    public func validate() throws(PolicyError) {
        let values = [
            ("max booting site-wide", maxBootingSiteWide), ("max booting per host", maxBootingPerHost),
            ("min lifetime", minLifetime), ("idle timeout", idleTimeout), ("starvation grace", starvationGrace),
        ]
        for (what, value) in values where value < 0 {
            throw PolicyError(.invalidConfiguration, "\(what) must be >= 0, not \(value)")
        }
    }
}
