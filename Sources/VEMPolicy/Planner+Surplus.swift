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
        for vm in vms where vm.phase == .draining && !vm.busy && !handled.contains(vm.id) {
            handled.insert(vm.id)
            release(vm)
            destroys.append(
                Directive(
                    .destroy(vm: vm.id),
                    reason: "\(vm.id) of \(vm.group) is drained and idle for \(vm.idleFor(at: now)) s"))
        }
    }

    /// Groups above what they may keep drain idle VMs, youngest first — only VMs idle past `idleTimeout` and
    /// older than `minLifetime`, so the pool does not oscillate. What a group may keep: nothing for a group no
    /// longer configured; with `keepIdleVMs` (the default) everything up to `maxVMs`, since idle VMs are given up
    /// only when another group wants their room (``takeRoomBack()``); otherwise its target.
    mutating func drainSurplus(keepingIdle: Bool? = nil) {
        let keepIdle = keepingIdle ?? configuration.keepIdleVMs
        var names = Set(vms.map(\.group))
        names.formUnion(groups.map(\.name))
        for name in names.sorted() {
            let holding = vms.filter { $0.group == name && ($0.phase == .booting || $0.phase == .active) }
            let target = targets[name]?.targetVMs ?? 0
            let keep: Int
            if let g = snapshot[group: name] {
                keep = keepIdle ? max(target, g.maxVMs ?? Int.max) : target
            } else {
                keep = 0
            }
            let surplus = holding.count - keep - drained[name, default: 0]
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

    /// Drain order: idle first; then busy VMs by when their jobs end (by the batch system's time limits, those it
    /// does not know last): a drain waits least behind the job that ends first; then the youngest, then by id.
    static func drainOrder(_ a: VMState, _ b: VMState) -> Bool {
        if a.busy != b.busy { return !a.busy }
        if a.busy, a.busyUntil != b.busyUntil {
            switch (a.busyUntil, b.busyUntil) {
            case (let x?, let y?): return x < y
            case (.some, nil): return true
            default: return false
            }
        }
        if a.createdAt != b.createdAt { return a.createdAt > b.createdAt }
        return a.id < b.id
    }

    /// Preemption order: a VM whose jobs are killed loses the work they did, so the one that loses least
    /// (``lostWork(_:)``) goes first; at equal loss the one whose jobs end first by their time limits (the room
    /// it holds was coming soonest anyway; unknown ends last); then ``drainOrder``.
    func preemptsBefore(_ a: VMState, _ b: VMState) -> Bool {
        let (x, y) = (lostWork(a), lostWork(b))
        if x != y { return x < y }
        return Self.drainOrder(a, b)
    }

    /// Work a preemption of `vm` loses, in CPU-seconds: what the batch system says is at risk on its node (each
    /// job on it counted whole: its full width × its time run, since killing one VM of a wide job requeues the
    /// job on all its VMs); when it does not say, the VM's vCPUs × the time since its last job started (undated:
    /// since its creation). 0 for an idle VM.
    func lostWork(_ vm: VMState) -> Int {
        guard vm.busy else { return 0 }
        return vm.workAtRisk ?? vm.cpus * max(0, now - (vm.busySince ?? vm.createdAt))
    }

    /// Whether a preemption may kill the jobs on `vm`: it is busy, not spared this step, runs no job of several
    /// VMs that was requeued before (such a job is killed at most once: it is never thrashed), is not one of the
    /// busy VMs its group keeps (``keepFirstStartedBusyVMs()``: its jobs within share), and its group is not
    /// created for in this step (its draining VM would be killed while it gets new ones).
    func killable(_ vm: VMState) -> Bool {
        vm.busy && !vm.runsRequeuedWideJob && !keptBusy.contains(vm.id) && !spared.contains(vm.id)
            && created[vm.group, default: 0] == 0
    }

    // MARK: - Taking room back

    /// How room is taken back from groups above their targets.
    enum Reclaim {
        /// For a group below target that found no room: idle VMs first (with `keepIdleVMs`, destroyed at once
        /// whatever their age: their group has no job waiting; otherwise drained past `minLifetime`), then busy
        /// VMs older than `minLifetime` are drained, those whose jobs end first first; their jobs finish.
        case graceful
        /// For a starving group: idle VMs above target first, then busy VMs are destroyed at once (their jobs are
        /// requeued, their work lost), those that lose least work first (each job counted whole), then those whose
        /// jobs end first; never more than the room needs; a VM running a job that was requeued before is never
        /// destroyed.
        case preempt
    }

    /// Groups below target that found no room take it back from groups above their targets, one VM at a time, on
    /// the host that costs fewest lost jobs. A starving group (below its guaranteed share, work waiting past the
    /// grace time) preempts for its guaranteed share; beyond it, and for every other group, room is reclaimed
    /// gracefully.
    mutating func takeRoomBack() {
        var unusableRoom = false
        for shortfall in shortfalls where shortfall.kind == .noRoom {
            guard let target = targets[shortfall.group], !migratedFor.contains(shortfall.group),
                let group = snapshot[group: shortfall.group]
            else { continue }
            let have = target.currentVMs + created[group.name, default: 0]
            let guaranteedMissing = target.starving ? max(0, min(target.guaranteedVMs, target.targetVMs) - have) : 0
            let missing = min(shortfall.count, max(0, target.targetVMs - have))
            for index in 0..<missing {
                let mode: Reclaim = index < guaranteedMissing ? .preempt : .graceful
                guard takeRoom(for: group, target: target, mode: mode) else {
                    notes.append(
                        "\(group.name): no room to take back from groups above their targets"
                            + (mode == .preempt ? " (starving)" : ""))
                    unusableRoom = true
                    break
                }
            }
        }
        // Kept idle VMs whose room no host can give whole (scattered over hosts, each too small alone): release
        // them as if idle VMs were not kept (past the idle timeout and the minimum lifetime), so the room gathers.
        if unusableRoom, configuration.keepIdleVMs { drainSurplus(keepingIdle: false) }
    }

    /// Room a host will have once this step's directives are carried out, minus what was promised.
    func roomSoon(on host: String) -> Size {
        (free[host] ?? .zero) + (releasing[host] ?? .zero) - (reserved[host] ?? .zero)
    }

    /// VMs a group may still give up: what it holds above its target, minus this step's drains. The target
    /// already holds the group's `minVMs` — unless the minimums of all groups do not fit together, and then the
    /// water-filling's share of them, not `minVMs`, is what the group keeps. For a preemption, the group's busy
    /// draining VMs count as held (they run its jobs on room it holds, and one running a requeued job may not be
    /// killed): a group whose draining VMs keep it above its target gives up active VMs too, else the room they
    /// hold is nobody's to take back and a starving group waits for their jobs to end.
    func preemptible(_ group: String, mode: Reclaim = .graceful) -> Int {
        guard let t = targets[group], snapshot[group: group] != nil else {
            // A group no longer configured: every VM it holds is surplus.
            return vms.filter { $0.group == group && $0.phase != .draining }.count - drained[group, default: 0]
        }
        let draining =
            mode == .preempt ? (drainingBusy[group] ?? 0) - killedDraining[group, default: 0] : 0
        return t.currentVMs + draining - drained[group, default: 0] - t.targetVMs
    }

    /// Finds the cheapest host on which room for one VM of `group` can be taken back, emits the drains and
    /// destroys, and promises the room to the group. Returns false when no host can give the room.
    mutating func takeRoom(for group: GroupState, target: GroupTarget, mode: Reclaim) -> Bool {
        let need = size(of: group)
        typealias Option = (
            host: String, victims: [VMState], move: (vm: VMState, to: String)?, cost: [Int],
            swaps: [(killed: String, spared: String)]
        )
        var best: Option?
        let destinations = migrationDestinations()
        for host in hosts where free[host.name] != nil {
            var room = roomSoon(on: host.name)
            var victims: [VMState] = []
            var move: (vm: VMState, to: String)?
            var budget: [String: Int] = [:]
            var swaps: [(killed: String, spared: String)] = []
            let onHost = (vmsByHost[host.name] ?? []).filter { !handled.contains($0.id) && $0.group != group.name }
            let drainingBusy = onHost.filter { $0.phase == .draining && $0.busy }.sorted(by: Self.drainOrder)
            if mode == .graceful {  // their jobs end in time: count their room as coming
                room = room + drainingBusy.reduce(Size.zero) { $0 + size(of: $1) }
            }
            if !need.fits(in: room) {
                let active = onHost.filter {
                    $0.phase == .active
                        && (mode == .preempt || (!$0.busy && configuration.keepIdleVMs)
                            || $0.age(at: now) >= configuration.minLifetime)
                }
                let idle = active.filter { !$0.busy }.sorted(by: Self.drainOrder)
                let busy = active.filter { $0.busy }.sorted(by: Self.drainOrder)
                // A preemption kills what has done least work, draining or not: the graceful reclaim that ran
                // before the grace picked the VM whose job ends first, often the one that has run longest.
                let order =
                    mode == .preempt
                    ? idle + (drainingBusy + busy).filter(killable).sorted(by: preemptsBefore) : idle + busy
                for vm in order where !need.fits(in: room) && !swaps.contains(where: { $0.spared == vm.id }) {
                    if vm.phase == .draining, mode == .preempt {
                        // Killing a draining VM needs no budget (it was leaving), but uses it when there is some.
                        let left = budget[vm.group] ?? preemptible(vm.group, mode: mode)
                        budget[vm.group] = max(0, left - 1)
                    } else if vm.phase == .active {
                        let left = budget[vm.group] ?? preemptible(vm.group, mode: mode)
                        if left > 0 {
                            budget[vm.group] = left - 1
                        } else if mode == .preempt, left == 0,
                            let older = olderDraining(than: vm, excluding: swaps.map(\.spared))
                        {
                            // Its group has given up all it may, by draining `older` (graceful reclaim): `vm`,
                            // whose job started later, is killed in its place, and `older` finishes its job.
                            swaps.append((vm.id, older.id))
                        } else {
                            continue
                        }
                    }
                    victims.append(vm)
                    room = room + size(of: vm)
                }
                if mode == .preempt {
                    // Never kill more than needed: drop the costliest victims whose room turns out not to be
                    // needed (a later, larger victim made room enough).
                    for vm in victims.reversed() where vm.busy && need.fits(in: room - size(of: vm)) {
                        victims.removeAll { $0.id == vm.id }
                        swaps.removeAll { $0.killed == vm.id }
                        room = room - size(of: vm)
                    }
                }
                if !need.fits(in: room) {
                    // Short of room: one live migration of another VM on the host may close the gap.
                    let taken = Set(victims.map(\.id))
                    move = mover(
                        from: host.name, room: room, need: need, excluding: taken, destinations: destinations)
                    guard let m = move else { continue }
                    room = room + size(of: m.vm)
                }
            }
            // A preemption kills its busy victims: the less work lost the better, then the fewer jobs.
            let kills = mode == .preempt ? victims.filter(\.busy) : []
            let lost = kills.reduce(0) { $0 + lostWork($1) }
            let busyDrains = mode == .preempt ? [] : victims.filter { $0.phase == .active && $0.busy }
            // The room comes when the last busy victim's jobs end: the sooner the better (unknown: last).
            let freeAt = busyDrains.map { $0.busyUntil ?? Int.max }.max() ?? 0
            let cost = [lost, kills.count, move == nil ? 0 : 1, busyDrains.count, freeAt, victims.count]
            if best.map({ cost.lexicographicallyPrecedes($0.cost) }) ?? true {
                best = (host.name, victims, move, cost, swaps)
            }
        }
        guard let choice = best else { return false }
        reserved[choice.host, default: .zero] = reserved[choice.host, default: .zero] + need
        let t = target
        let because =
            mode == .preempt
            ? "preempted for \(group.name): it holds \(t.currentVMs)/\(t.guaranteedVMs) VMs of its guaranteed share "
                + "and its oldest job has waited \(group.oldestPendingWait) s (grace \(configuration.starvationGrace) s)"
            : "room for \(group.name): it holds \(t.currentVMs)/\(t.targetVMs) VMs of its target and no host has room"
        if let m = choice.move {
            handled.insert(m.vm.id)
            release(m.vm)
            free[m.to] = (free[m.to] ?? .zero) - size(of: m.vm)
            migrations.append(
                Directive(
                    .migrate(vm: m.vm.id, host: m.to),
                    reason: "make room for a \(group.name) VM on \(choice.host), with the room freed there"))
        }
        for (killed, kept) in choice.swaps {
            spared.insert(kept)
            notes.append("\(kept) finishes its job: \(killed), whose job started later, is preempted in its place")
        }
        for vm in choice.victims {
            handled.insert(vm.id)
            release(vm)
            if vm.busy && mode == .preempt {
                if vm.phase == .active { drained[vm.group, default: 0] += 1 }
                if vm.phase == .draining { killedDraining[vm.group, default: 0] += 1 }
                let started = vm.busySince.map { "its job started \(now - $0) s ago" } ?? "its job's start is unknown"
                destroys.append(
                    Directive(
                        .destroy(vm: vm.id),
                        reason: "\(because); \(vm.id) is busy (\(started)): its job is lost and requeued"))
            } else if !vm.busy && configuration.keepIdleVMs {
                // Idle: its group has no job waiting (else the batch system would have given it one). No drain.
                drained[vm.group, default: 0] += 1
                let holds = targets[vm.group].map {
                    "; \(vm.group) holds \($0.currentVMs) for a target of \($0.targetVMs)"
                }
                destroys.append(
                    Directive(
                        .destroy(vm: vm.id), reason: because + (holds ?? "") + "; \(vm.id) is idle: destroyed at once"))
            } else {
                drained[vm.group, default: 0] += 1
                let holds = targets[vm.group].map {
                    "; \(vm.group) holds \($0.currentVMs) for a target of \($0.targetVMs)"
                }
                drains.append(
                    Directive(
                        .drain(vm: vm.id),
                        reason: because + (holds ?? "") + "; " + busyNote(vm, mode: mode, for: group.name)))
            }
        }
        return true
    }

    /// The hosts a VM could be live-migrated to now, with their room left after this step's promises (name
    /// order); none when migrations are not allowed or one was proposed or runs already. Computed once per
    /// reclaim, not once per candidate VM: in a full pool of small VMs every VM is a candidate and no host a
    /// destination, and this scan was most of `vem simulate`'s time.
    func migrationDestinations() -> [(host: String, room: Size)] {
        guard configuration.migrationAllowed, migrations.isEmpty, !migrationRunning else { return [] }
        return hosts.compactMap { h in free[h.name].map { (h.name, $0 - (reserved[h.name] ?? .zero)) } }
    }

    /// A VM on `host` (not among `excluding`) whose live migration to one of `destinations` (another host with
    /// room) would, with `room`, make room for `need`.
    func mover(
        from host: String, room: Size, need: Size, excluding: Set<String>, destinations: [(host: String, room: Size)]
    ) -> (vm: VMState, to: String)? {
        let elsewhere = destinations.filter { $0.host != host }
        guard !elsewhere.isEmpty else { return nil }
        var best: (vm: VMState, to: String)?
        for vm in vmsByHost[host] ?? [] where vm.phase == .active && !handled.contains(vm.id) {
            guard !excluding.contains(vm.id), need.fits(in: room + size(of: vm)) else { continue }
            let fitting = elsewhere.filter { size(of: vm).fits(in: $0.room) }.map { ($0.host, $0.room) }
            guard let (to, _) = choose(fitting) else { continue }
            if let b = best, !Self.migrationOrder(vm, b.vm) { continue }
            best = (vm, to)
        }
        return best
    }

    /// What happens to the job of a VM drained to take room back (a preemption destroys busy VMs instead).
    func busyNote(_ vm: VMState, mode: Reclaim, for group: String) -> String {
        vm.busy ? "\(vm.id) is busy: its job finishes first" : "\(vm.id) is idle"
    }

    /// A draining busy VM of `vm`'s group, anywhere, whose kill would lose more work than `vm`'s (so killing `vm`
    /// in its place loses less) and that a preemption may kill: the one that would lose most.
    func olderDraining(than vm: VMState, excluding: [String]) -> VMState? {
        vms.filter {
            $0.group == vm.group && $0.phase == .draining && killable($0) && !handled.contains($0.id)
                && !excluding.contains($0.id) && preemptsBefore(vm, $0)
        }
        .sorted(by: preemptsBefore).last
    }
}
