/// The default policy: from a ``PoolSnapshot`` and the time, the directives that move the pool towards each
/// group's fair share (DESIGN.md §6). A pure instance: no I/O, no clock; the same input gives the same plan.
///
/// One step:
/// 1. targets by weighted max–min fairness (``FairShare``) over the pool's capacity, each group first getting
///    `min(demand, its guaranteed share)` — its static partition's size (``FairShare/apportion``); one group whose
///    first waiting job needs more VMs at once than its target gets them, if the other groups' guarantees leave room
///    (beside its VMs still busy at the job's shadow time; the reservation is kept until the job starts);
/// 2. draining VMs that are idle are destroyed;
/// 3. groups above target drain idle VMs, youngest first — only VMs idle for `idleTimeout` and older than
///    `minLifetime` (hysteresis); with `keepIdleVMs`, idle VMs are kept until another group wants their room;
/// 4. groups below target get VMs placed on hosts with room (`pack` or `spread`), at most
///    `maxBootingSiteWide` / `maxBootingPerHost` booting at once, lowest water level first;
/// 5. a VM that fits nowhere only because free room is scattered gets room by one live migration;
/// 6. a group below target that still finds no room takes it back from groups above their targets: idle VMs first
///    (with `keepIdleVMs` destroyed at once), then busy VMs older than `minLifetime` are drained, those whose jobs
///    end first first (their jobs finish first);
/// 7. only a group below its guaranteed share whose oldest job has waited past `starvationGrace` preempts: busy
///    VMs of groups above their targets, draining or not, are destroyed at once (the batch system requeues their
///    jobs), those that lose least work first (the batch system's work at risk: each job's whole width × its time
///    run, since a kill of one VM of a wide job requeues it on all its VMs), then those whose jobs end first, never
///    more than the room needs, on the host where least work is lost; a group keeps its `targetVMs` busy VMs whose
///    jobs started first (the jobs within its share), and a VM running a job of several VMs that was requeued
///    before is never destroyed (such a job is killed at most once; a one-VM job may be killed again). A group that has given up all it may by draining a VM that would
///    lose more work loses a busy VM that loses less in its place, and the draining one finishes its job.
///
/// A group is never both created for and drained (or preempted) in one step.
public struct Planner: Sendable {
    /// The knobs.
    public var configuration: PolicyConfiguration

    /// Creates a planner.
    public init(configuration: PolicyConfiguration = PolicyConfiguration()) {
        self.configuration = configuration
    }

    /// Plans one step.
    /// - Parameters:
    ///   - snapshot: the pool as it is now.
    ///   - now: the current time, in seconds on the clock the snapshot's times use.
    /// - Throws: ``PolicyError`` when the snapshot or the configuration is inconsistent.
    public func plan(_ snapshot: PoolSnapshot, now: Int) throws(PolicyError) -> Plan {
        try configuration.validate()
        try snapshot.validate()
        var step = Step(configuration: configuration, snapshot: snapshot, now: now)
        step.run()
        return step.result
    }

    /// Plans one step and returns its account as text: per group share, demand, target, current VMs and why;
    /// then the directives with their reasons. What `vem explain` prints.
    /// - Throws: ``PolicyError`` when the snapshot or the configuration is inconsistent.
    public func explain(_ snapshot: PoolSnapshot, now: Int) throws(PolicyError) -> String {
        try plan(snapshot, now: now).explanation
    }
}

extension Planner {
    /// A room need: vCPUs and MiB.
    struct Size: Hashable {
        var cpus: Int
        var memory: Int
        static let zero = Size(cpus: 0, memory: 0)
        static func + (a: Size, b: Size) -> Size { Size(cpus: a.cpus + b.cpus, memory: a.memory + b.memory) }
        static func - (a: Size, b: Size) -> Size { Size(cpus: a.cpus - b.cpus, memory: a.memory - b.memory) }
        func fits(in room: Size) -> Bool { cpus <= room.cpus && memory <= room.memory }
    }

    /// Why a group below target got fewer VMs than it needs this step.
    enum Shortfall {
        /// A booting limit was reached: wait.
        case throttled
        /// No accepting host has room for one more VM.
        case noRoom
    }

    /// The working state of one planning step.
    struct Step {
        let configuration: PolicyConfiguration
        let snapshot: PoolSnapshot
        let now: Int
        let groups: [GroupState]  // name order
        let hosts: [HostState]  // name order
        let vms: [VMState]  // id order
        let vmsByHost: [String: [VMState]]  // id order on each host
        var targets: [String: GroupTarget] = [:]
        var claims: [String: FairShare.Claim] = [:]
        var capacity = Size.zero
        /// The reservation this step holds for a group's wide first job (``reserveForWideHeadJob(_:_:)``).
        var reservation: Reservation?

        /// Room for new VMs on each accepting host, after this step's creates and migrations.
        var free: [String: Size] = [:]
        /// Room that this step's destroys and drains will free (not usable until the next step).
        var releasing: [String: Size] = [:]
        /// Room promised to a starving group on a host (preemption bookkeeping).
        var reserved: [String: Size] = [:]
        var bootingOnHost: [String: Int] = [:]
        var bootingSiteWide = 0

        var handled: Set<String> = []
        var created: [String: Int] = [:]
        var drained: [String: Int] = [:]
        var shortfalls: [(group: String, count: Int, kind: Shortfall)] = []
        var migratedFor: Set<String> = []
        /// Draining busy VMs a preemption spares this step: a younger busy VM of their group is killed in their
        /// place (they finish their jobs).
        var spared: Set<String> = []
        /// Busy VMs each group keeps whatever a preemption needs: its `targetVMs` busy VMs whose jobs started
        /// first (the jobs its own partition, in submission order, would be running).
        var keptBusy: Set<String> = []
        /// Busy draining VMs per group, from the snapshot: they hold room and run the group's jobs.
        var drainingBusy: [String: Int] = [:]
        /// Busy draining VMs per group that this step's preemptions destroy.
        var killedDraining: [String: Int] = [:]
        /// Whether a live migration is under way (then no other is proposed).
        var migrationRunning = false

        var destroys: [Directive] = []
        var drains: [Directive] = []
        var migrations: [Directive] = []
        var creates: [Directive] = []
        var notes: [String] = []

        init(configuration: PolicyConfiguration, snapshot: PoolSnapshot, now: Int) {
            self.configuration = configuration
            self.snapshot = snapshot
            self.now = now
            groups = snapshot.groups.sorted { $0.name < $1.name }
            hosts = snapshot.hosts.sorted { $0.name < $1.name }
            vms = snapshot.vms.sorted { $0.id < $1.id }
            vmsByHost = Dictionary(grouping: vms, by: \.host)
        }

        mutating func run() {
            measureHosts()
            computeTargets()
            keepFirstStartedBusyVMs()
            destroyIdleDraining()
            drainSurplus()
            createForDeficits()
            makeRoomByMigration()
            takeRoomBack()
        }

        var result: Plan {
            Plan(
                now: now, capacityCPUs: capacity.cpus, capacityMemoryMiB: capacity.memory,
                directives: destroys + drains + migrations + creates,
                targets: groups.compactMap { targets[$0.name] }, notes: notes, reservation: reservation)
        }

        /// Booting plus active VMs of the group, before this step's directives.
        func current(_ group: String) -> Int { targets[group]?.currentVMs ?? 0 }

        /// The size of one VM of the group.
        func size(of group: GroupState) -> Size { Size(cpus: group.vmCPUs, memory: group.vmMemoryMiB) }

        // MARK: - Hosts and targets

        /// Free room per host: what the host reports, never more than its capacity minus the VMs listed on it.
        mutating func measureHosts() {
            var used: [String: Size] = [:]
            var incoming: [String: Size] = [:]
            for vm in vms {
                let size = Size(cpus: vm.cpus, memory: vm.memoryMiB)
                used[vm.host, default: .zero] = used[vm.host, default: .zero] + size
                if let destination = vm.migratingTo, destination != vm.host {
                    // Room held on the destination too (the pool is physical: both copies count meanwhile).
                    incoming[destination, default: .zero] = incoming[destination, default: .zero] + size
                    handled.insert(vm.id)  // left alone until the migration ends
                    migrationRunning = true
                }
                if vm.phase == .booting {
                    bootingOnHost[vm.host, default: 0] += 1
                    bootingSiteWide += 1
                }
            }
            for host in hosts {
                let u = used[host.name] ?? .zero
                let held = u + (incoming[host.name] ?? .zero)
                let room = Size(
                    cpus: max(0, min(host.freeCPUs, host.cpus - held.cpus)),
                    memory: max(0, min(host.freeMemoryMiB, host.memoryMiB - held.memory)))
                capacity = capacity + held + (host.acceptingVMs ? room : .zero)
                if host.acceptingVMs { free[host.name] = room }
            }
        }

        /// Marks, per group, the busy VMs a preemption never kills: its `targetVMs` busy VMs (draining or not)
        /// whose jobs started first (undated: since the VM's creation; ties by id). In its own partition the group
        /// would run its jobs in that order, so these are the jobs within its share; what it runs beyond its
        /// target was started last, on room it borrowed. Ordering victims by lost work alone killed a job within
        /// share whenever it had done less work than the borrowed ones (a narrow old job beside a young wide one,
        /// or beside requeued jobs that may not be killed again), and the check counts that job's second wait.
        mutating func keepFirstStartedBusyVMs() {
            for (name, list) in Dictionary(grouping: vms.filter(\.busy), by: \.group) {
                let keep = snapshot[group: name] == nil ? 0 : targets[name]?.targetVMs ?? 0
                let ordered = list.sorted {
                    ($0.busySince ?? $0.createdAt, $0.id) < ($1.busySince ?? $1.createdAt, $1.id)
                }
                keptBusy.formUnion(ordered.prefix(keep).map(\.id))
            }
        }

        mutating func computeTargets() {
            var counts: [String: (booting: Int, active: Int, draining: Int, busy: Int)] = [:]
            for vm in vms {
                if vm.phase == .draining, vm.busy { drainingBusy[vm.group, default: 0] += 1 }
                var c = counts[vm.group] ?? (0, 0, 0, 0)
                switch vm.phase {
                case .booting: c.booting += 1
                case .active: c.active += 1
                case .draining: c.draining += 1
                }
                if vm.busy, vm.phase != .draining { c.busy += 1 }
                counts[vm.group] = c
            }
            // The room a requeued wide job holds (never killed twice) is its group's minimum: counted at its
            // demand alone, the water-fill lent that room again and a starving owner found nobody above target.
            // Never beyond `max_vms` (a limit lowered while the job ran): the VMs beyond it are the group's surplus.
            var immune: [String: Int] = [:]
            for vm in vms where vm.busy && vm.runsRequeuedWideJob { immune[vm.group, default: 0] += 1 }
            let claimList = groups.map { g in
                FairShare.Claim(
                    name: g.name, share: g.share, vmCPUs: g.vmCPUs, vmMemoryMiB: g.vmMemoryMiB,
                    minVMs: min(max(g.minVMs, immune[g.name] ?? 0), g.maxVMs ?? Int.max),
                    maxVMs: g.maxVMs, demandVMs: (counts[g.name]?.busy ?? 0) + g.pendingVMs)
            }
            // Each group is guaranteed what its static partition would hold (fig. 1), not D'Hondt's floor: the
            // guarantee check compares a group's waits with that partition's.
            let partitions = FairShare.apportion(
                claimList, capacityCPUs: capacity.cpus, capacityMemoryMiB: capacity.memory)
            var allocations = FairShare.compute(
                claimList, capacityCPUs: capacity.cpus, capacityMemoryMiB: capacity.memory, guarantees: partitions)
            reservation = reserveForWideHeadJob(claimList, &allocations)
            for (g, (claim, a)) in zip(groups, zip(claimList, allocations)) {
                let c = counts[g.name] ?? (0, 0, 0, 0)
                let current = c.booting + c.active
                let waiting = g.pendingCPUs > 0 || g.pendingJobs > 0
                claims[g.name] = claim
                targets[g.name] = GroupTarget(
                    group: g.name, share: g.share, shareFraction: a.shareFraction, shareVMs: a.shareVMs,
                    busyVMs: c.busy, pendingVMs: g.pendingVMs, demandVMs: claim.demandVMs, capVMs: a.capVMs,
                    guaranteedVMs: a.guaranteedVMs, targetVMs: a.targetVMs, bootingVMs: c.booting,
                    activeVMs: c.active, drainingVMs: c.draining,
                    // Its busy draining VMs still run its jobs on room it holds: they count as held.
                    starving: waiting && current + (drainingBusy[g.name] ?? 0) < min(a.guaranteedVMs, a.targetVMs)
                        && g.oldestPendingWait >= configuration.starvationGrace,
                    why: GroupTarget.reasonText(a, claim: claim)
                        + (reservation?.group == g.name
                            ? "; raised to \(a.targetVMs) for its first waiting job (\(g.headJobCPUs) CPUs at once)"
                            : ""))
            }
        }

        /// VMs a group's first waiting job needs at once.
        func headVMs(_ g: GroupState) -> Int { g.headJobCPUs > 0 ? (g.headJobCPUs + g.vmCPUs - 1) / g.vmCPUs : 0 }

        /// VMs group `g` (at `index`) must hold for its first waiting job to start: a job of several VMs needs them
        /// free at once, beside the group's VMs that are still busy with running jobs *when the job can start* (its
        /// shadow time, ``shadowTime(_:index:head:kept:)``); a VM whose job ends before then is one of the job's
        /// own. Without a shadow time (no known end frees enough room), every busy VM counts (active, not
        /// draining: those stay busy until their jobs end, which may be days). A job of one VM starts on whichever
        /// VM of its group frees first, as the water-filling already provides. 0 when no job waits.
        func headTarget(_ g: GroupState, index: Int, kept: [Int]) -> Int {
            let head = headVMs(g)
            guard head > 1 else { return head }
            let busy = vms.filter { $0.group == g.name && $0.phase == .active && $0.busy }
            guard let shadow = shadowTime(g, index: index, head: head, kept: kept) else { return head + busy.count }
            return head + busy.count { ($0.busyUntil ?? Int.max) > shadow }
        }

        /// EASY's shadow time for group `g`'s first job of `head` VMs, across groups: the earliest instant at which
        /// `head` of its VMs can be free at once, counting free room and its own idle and booting VMs now, its own
        /// busy VMs when their jobs end (by the batch system's time limits), and the room of the other groups' VMs
        /// beyond what they keep under a reservation (`kept`: the ones that free first, idle now, busy when their
        /// jobs end) and of draining VMs when theirs end. Counted in vCPUs (memory aside). `nil` when no known end
        /// frees enough.
        func shadowTime(_ g: GroupState, index: Int, head: Int, kept: [Int]) -> Int? {
            let size = max(1, g.vmCPUs)
            var freeCPUs = free.values.reduce(0) { $0 + $1.cpus }
            var ownNow = 0
            var events: [(time: Int, own: Bool, cpus: Int)] = []
            var others: [String: [VMState]] = [:]
            for vm in vms where vm.migratingTo == nil {
                if vm.phase == .draining {
                    if vm.busy, let end = vm.busyUntil { events.append((end, false, vm.cpus)) }
                    if !vm.busy { freeCPUs += vm.cpus }
                } else if vm.group == g.name {
                    if !vm.busy || vm.phase == .booting {
                        ownNow += 1
                    } else if let end = vm.busyUntil {
                        events.append((end, true, 0))
                    }
                } else {
                    others[vm.group, default: []].append(vm)
                }
            }
            for (j, h) in groups.enumerated() where j != index {
                // The VMs another group gives up first: idle ones now, then busy ones as their jobs end; booting
                // ones last (they will take its waiting jobs).
                let order = (others[h.name] ?? []).map { vm -> (Int, Int) in
                    (vm.phase == .booting ? Int.max : vm.busy ? (vm.busyUntil ?? Int.max) : now, vm.cpus)
                }.sorted { $0.0 < $1.0 }
                for (time, cpus) in order.prefix(max(0, order.count - kept[j])) where time != Int.max {
                    if time <= now { freeCPUs += cpus } else { events.append((time, false, cpus)) }
                }
            }
            var own = ownNow
            var room = freeCPUs
            if own + room / size >= head { return now }
            events.sort { $0.time < $1.time }
            var k = 0
            while k < events.count {
                let t = events[k].time
                while k < events.count, events[k].time == t {
                    if events[k].own { own += 1 } else { room += events[k].cpus }
                    k += 1
                }
                if own + room / size >= head { return max(now, t) }
            }
            return nil
        }

        /// A group's first waiting job may need more VMs at once than the group's fair target: a wide job that
        /// would otherwise wait until every other group's demand falls, while every group holds part of what its
        /// own wide job needs and none can start it. One group gets its target raised to what that job needs
        /// (EASY backfill's reservation, across groups), when the room exists beside what the other groups are
        /// guaranteed and use: `min(share, demand)`, where the demand of a group that cannot start its own first
        /// job within its target is only its busy and booting VMs (its waiting jobs wait behind that job anyway:
        /// they protect nothing). The other groups' targets are then water-filled over the rest, each keeping
        /// that much. Which group: the one the previous step reserved for (``PoolSnapshot/reservation``), as long
        /// as the same job is still its first waiting one and still fits — a reservation moved to another group
        /// destroys the VMs gathered for the first and gathers them again later; otherwise the one whose first
        /// job has waited longest, then by name. Returns the reservation, if a group was raised.
        func reserveForWideHeadJob(_ claims: [FairShare.Claim], _ allocations: inout [FairShare.Allocation])
            -> Reservation?
        {
            var running: [String: Int] = [:]
            for vm in vms where (vm.busy && vm.phase == .active) || vm.phase == .booting {
                running[vm.group, default: 0] += 1
            }
            // What each group keeps under another's reservation: its busy and booting VMs, and its waiting jobs
            // too unless it cannot start its own first job within its target (then they wait behind it anyway).
            let kept = groups.indices.map { j -> Int in
                let g = groups[j]
                let stuck = headVMs(g) > allocations[j].targetVMs
                let usable = (running[g.name] ?? 0) + (stuck ? 0 : g.pendingVMs)
                return max(allocations[j].minimumVMs, min(allocations[j].guaranteedVMs, usable))
            }
            let held = snapshot.reservation.flatMap { r in
                groups.firstIndex {
                    $0.name == r.group && $0.oldestPendingWait > 0
                        && abs(now - $0.oldestPendingWait - r.submittedAt) <= Reservation.sameJobTolerance
                }
            }
            var best: (index: Int, need: Int)?
            for (i, g) in groups.enumerated() {
                let need = headTarget(g, index: i, kept: kept)
                guard need > allocations[i].targetVMs, need <= claims[i].capVMs else { continue }
                var cpus = capacity.cpus - need * g.vmCPUs
                var memory = capacity.memory - need * g.vmMemoryMiB
                for (j, h) in groups.enumerated() where j != i {
                    cpus -= kept[j] * h.vmCPUs
                    memory -= kept[j] * h.vmMemoryMiB
                }
                guard cpus >= 0, memory >= 0 else { continue }
                if let b = best {
                    guard b.index != held else { continue }
                    let other = groups[b.index]
                    guard i == held || g.oldestPendingWait > other.oldestPendingWait else { continue }
                }
                best = (i, need)
            }
            guard let (index, need) = best else { return nil }
            var raised = claims
            for j in raised.indices { raised[j].minVMs = j == index ? max(claims[j].minVMs, need) : kept[j] }
            let again = FairShare.compute(raised, capacityCPUs: capacity.cpus, capacityMemoryMiB: capacity.memory)
            guard again[index].targetVMs >= need else { return nil }
            for j in allocations.indices { allocations[j].targetVMs = again[j].targetVMs }
            let g = groups[index]
            if index == held, let r = snapshot.reservation { return r }
            return Reservation(group: g.name, submittedAt: now - g.oldestPendingWait)
        }
    }
}
