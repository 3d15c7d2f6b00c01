extension Planner.Step {
    /// When a group's VM fits on no host although the pool's free room would hold it (free room scattered over
    /// hosts), proposes one live migration that frees enough room on one host: the smallest VM that suffices,
    /// moved to a host the placement policy picks. At most one migration per step; the create follows in a later
    /// step, once the migration is done.
    mutating func makeRoomByMigration() {
        guard configuration.migrationAllowed, !migrationRunning else { return }
        let accepting = hosts.filter { free[$0.name] != nil }
        let total = accepting.reduce(Planner.Size.zero) { $0 + (free[$1.name] ?? .zero) }
        for shortfall in shortfalls where shortfall.kind == .noRoom {
            guard let group = snapshot[group: shortfall.group] else { continue }
            let need = size(of: group)
            guard need.fits(in: total) else { continue }
            guard let (vm, destination, source) = migrationMakingRoom(for: need, among: accepting) else { continue }
            let maxFree = accepting.map { free[$0.name]?.cpus ?? 0 }.max() ?? 0
            free[destination] = (free[destination] ?? .zero) - size(of: vm)
            handled.insert(vm.id)
            migratedFor.insert(group.name)
            migrations.append(
                Directive(
                    .migrate(vm: vm.id, host: destination),
                    reason: "make room for a \(group.name) VM (\(need.cpus) vCPUs, \(need.memory) MiB) on \(source): "
                        + "\(total.cpus) vCPUs and \(total.memory) MiB are free in total but scattered "
                        + "(at most \(maxFree) vCPUs on one host)"))
            notes.append("\(group.name): waits for the migration of \(vm.id) before its next VM")
            return
        }
    }

    /// The cheapest (VM, destination, source) such that moving the VM leaves room for `need` on its source.
    func migrationMakingRoom(for need: Planner.Size, among accepting: [HostState]) -> (VMState, String, String)? {
        var best: (vm: VMState, destination: String, source: String)?
        for source in accepting {
            let room = free[source.name] ?? .zero
            for vm in vmsByHost[source.name] ?? [] where vm.phase == .active && !handled.contains(vm.id) {
                guard need.fits(in: room + size(of: vm)) else { continue }
                let destinations = accepting.compactMap { host -> (String, Planner.Size)? in
                    guard host.name != source.name, let r = free[host.name], size(of: vm).fits(in: r) else {
                        return nil
                    }
                    return (host.name, r)
                }
                guard let (destination, _) = choose(destinations) else { continue }
                if let b = best, !Self.migrationOrder(vm, b.vm) { continue }
                best = (vm, destination, source.name)
            }
        }
        return best.map { ($0.vm, $0.destination, $0.source) }
    }

    /// Smaller VMs move first (less to copy), then idle ones, then by id.
    static func migrationOrder(_ a: VMState, _ b: VMState) -> Bool {
        if a.cpus != b.cpus { return a.cpus < b.cpus }
        if a.memoryMiB != b.memoryMiB { return a.memoryMiB < b.memoryMiB }
        if a.busy != b.busy { return !a.busy }
        return a.id < b.id
    }
}
