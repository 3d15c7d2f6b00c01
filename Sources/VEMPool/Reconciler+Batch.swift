import VEMBatch

extension Reconciler {
    /// Batch nodes against the inventory: a node of a configured group named like a VEM VM of it
    /// (`atlas-vm-12`) with no VM in the inventory for `strayNodeGrace` is removed once idle (a decision says
    /// so). Nodes named otherwise are the site's own and left alone.
    mutating func removeStrayNodes(_ nodes: [String: BatchNode], batch: BatchSnapshot, now: Int) -> [PoolOperation] {
        var operations: [PoolOperation] = []
        var stillStray: [String: Int] = [:]
        for name in nodes.keys.filter({ vms[$0] == nil }).sorted() {
            guard let node = nodes[name], let group = group(named: node.group), Self.isVEMName(name, of: group.name)
            else { continue }
            let since = strayNodesSeen[name] ?? now
            guard now - since >= configuration.strayNodeGrace else {
                stillStray[name] = since
                continue
            }
            var vm = ManagedVM(
                id: name, group: group.name, host: "", stage: .removing, createdAt: now, cpus: node.cpus,
                memoryMiB: node.memoryMB)
            vm.gone = true
            vm.registered = true
            vm.seenInBatch = true
            vm.registeredAt = batch.time
            vm.busy = PoolSnapshotBuilder.isBusy(node)
            log(
                .lost, vm, now: now,
                "a batch node of \(group.name) with no VM in the inventory for \(now - since) s: removed once idle")
            operations += settle(&vm, now: now)
        }
        strayNodesSeen = stillStray
        return operations
    }

    /// Whether `name` is a VEM VM name of `group`: `<group>-vm-<number>`.
    static func isVEMName(_ name: String, of group: String) -> Bool {
        let prefix = group + "-vm-"
        guard name.hasPrefix(prefix) else { return false }
        let number = name.dropFirst(prefix.count)
        return !number.isEmpty && number.allSatisfy(\.isNumber)
    }
}
