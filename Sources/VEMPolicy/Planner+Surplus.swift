extension Planner.Step {
    typealias Size = Planner.Size

    /// The size of a VM.
    func size(of vm: VMState) -> Size { Size(cpus: vm.cpus, memory: vm.memoryMiB) }

    /// Marks room on a VM's host as freed by this step's directives (usable from the next step).
    mutating func release(_ vm: VMState) {
        releasing[vm.host, default: .zero] = releasing[vm.host, default: .zero] + size(of: vm)
    }

    /// A draining VM that is idle has finished its last job: destroy it.
    mutating func destroyIdleDraining() {
        for vm in vms where vm.phase == .draining && !vm.busy {
            handled.insert(vm.id)
            release(vm)
            destroys.append(
                Directive(
                    .destroy(vm: vm.id),
                    reason: "\(vm.id) of \(vm.group) is drained and idle for \(vm.idleFor(at: now)) s"))
        }
    }

    /// Groups above target drain idle VMs, youngest first — only VMs idle past `idleTimeout` and older than
    /// `minLifetime`, so the pool does not oscillate. VMs of groups no longer configured have a target of 0.
    mutating func drainSurplus() {
        var names = Set(vms.map(\.group))
        names.formUnion(groups.map(\.name))
        for name in names.sorted() {
            let holding = vms.filter { $0.group == name && ($0.phase == .booting || $0.phase == .active) }
            let target = targets[name]?.targetVMs ?? 0
            let surplus = holding.count - target
            guard surplus > 0 else { continue }
            let eligible =
                holding
                .filter {
                    $0.phase == .active && !$0.busy && !handled.contains($0.id)
                        && $0.idleFor(at: now) >= configuration.idleTimeout
                        && $0.age(at: now) >= configuration.minLifetime
                }
                .sorted(by: Self.drainOrder)
            let why =
                targets[name] == nil
                ? "group \(name) is not configured"
                : "\(name) holds \(holding.count) VMs for a target of \(target)"
            for vm in eligible.prefix(surplus) {
                handled.insert(vm.id)
                release(vm)
                drained[name, default: 0] += 1
                drains.append(
                    Directive(
                        .drain(vm: vm.id),
                        reason: "\(why); \(vm.id) idle for \(vm.idleFor(at: now)) s, age \(vm.age(at: now)) s"))
            }
            if eligible.count < surplus {
                notes.append(
                    "\(name): \(surplus - eligible.count) surplus VM(s) kept: busy, idle less than "
                        + "\(configuration.idleTimeout) s or younger than \(configuration.minLifetime) s")
            }
        }
    }

    /// Drain order: idle first, then the youngest, then by id.
    static func drainOrder(_ a: VMState, _ b: VMState) -> Bool {
        if a.busy != b.busy { return !a.busy }
        if a.createdAt != b.createdAt { return a.createdAt > b.createdAt }
        return a.id < b.id
    }

    // MARK: - Preemption

    /// A starving group (below its guaranteed share, work waiting past the grace time) that found no room takes
    /// room back from groups above their targets, one host at a time, choosing the host that costs fewest lost
    /// jobs: idle VMs are drained first, then a busy VM already draining is destroyed, then busy VMs are drained
    /// (destroyed in a later step if the group still starves).
    mutating func preemptForStarvingGroups() {
        for shortfall in shortfalls where shortfall.kind == .noRoom {
            guard let target = targets[shortfall.group], target.starving, !migratedFor.contains(shortfall.group),
                let group = snapshot[group: shortfall.group]
            else { continue }
            let missing = min(target.guaranteedVMs, target.targetVMs) - target.currentVMs - created[group.name, default: 0]
            for _ in 0..<min(shortfall.count, max(0, missing)) {
                guard preemptOne(for: group, target: target) else {
                    notes.append("\(group.name) starves but no group above its target holds room to take back")
                    break
                }
            }
        }
    }

    /// Room a host will have once this step's directives are carried out, minus what preemption promised.
    func roomSoon(on host: String) -> Size {
        (free[host] ?? .zero) + (releasing[host] ?? .zero) - (reserved[host] ?? .zero)
    }

    /// VMs a group may still lose to preemption: what it holds above `max(target, minVMs)`, minus this step's
    /// drains.
    func preemptible(_ group: String) -> Int {
        guard let t = targets[group], let g = snapshot[group: group] else { return 0 }
        return t.currentVMs - drained[group, default: 0] - max(t.targetVMs, g.minVMs)
    }

    mutating func preemptOne(for group: GroupState, target: GroupTarget) -> Bool {
        let need = size(of: group)
        typealias Option = (host: String, victims: [VMState], cost: [Int])
        var best: Option?
        for host in hosts where free[host.name] != nil {
            var room = roomSoon(on: host.name)
            var victims: [VMState] = []
            var budget: [String: Int] = [:]
            if !need.fits(in: room) {
                let onHost = vms.filter { $0.host == host.name && !handled.contains($0.id) && $0.group != group.name }
                let idle = onHost.filter { $0.phase == .active && !$0.busy }.sorted(by: Self.drainOrder)
                let drainingBusy = onHost.filter { $0.phase == .draining && $0.busy }.sorted(by: Self.drainOrder)
                let busy = onHost.filter { $0.phase == .active && $0.busy }.sorted(by: Self.drainOrder)
                for vm in idle + drainingBusy + busy where !need.fits(in: room) {
                    if vm.phase == .active {
                        let left = budget[vm.group] ?? preemptible(vm.group)
                        guard left > 0 else { continue }
                        budget[vm.group] = left - 1
                    }
                    victims.append(vm)
                    room = room + size(of: vm)
                }
                guard need.fits(in: room) else { continue }
            }
            let kills = victims.filter { $0.phase == .draining }.count
            let busyDrains = victims.filter { $0.phase == .active && $0.busy }.count
            let cost = [kills, busyDrains, victims.count]
            if best == nil || cost.lexicographicallyPrecedes(best!.cost) { best = (host.name, victims, cost) }
        }
        guard let choice = best else { return false }
        reserved[choice.host, default: .zero] = reserved[choice.host, default: .zero] + need
        let t = target
        let because =
            "preempted for \(group.name): it holds \(t.currentVMs)/\(t.guaranteedVMs) VMs of its guaranteed share "
            + "and its oldest job has waited \(group.oldestPendingWait) s (grace \(configuration.starvationGrace) s)"
        for vm in choice.victims {
            handled.insert(vm.id)
            release(vm)
            if vm.phase == .draining {
                destroys.append(Directive(.destroy(vm: vm.id), reason: "\(because); the job on \(vm.id) is lost"))
            } else {
                drained[vm.group, default: 0] += 1
                let holds = targets[vm.group].map { "; \(vm.group) holds \($0.currentVMs) for a target of \($0.targetVMs)" }
                drains.append(
                    Directive(
                        .drain(vm: vm.id),
                        reason: because + (holds ?? "") + (vm.busy ? "; \(vm.id) is busy" : "; \(vm.id) is idle")))
            }
        }
        return true
    }
}
