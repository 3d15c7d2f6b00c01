import PropertyBased
import Testing

@testable import VEMPolicy

/// Invariants of one planning step over random snapshots and configurations.
@Suite struct PlannerInvariantTests {
    struct Case: CustomStringConvertible {
        var snapshot: PoolSnapshot
        var configuration: PolicyConfiguration
        var now: Int
        var description: String { "\(configuration)\n\(snapshot)" }
    }

    static let cases = Generator<Case, Shrink.None<Case>>(run: { rng in
        Case(snapshot: RandomPool.snapshot(&rng), configuration: RandomPool.configuration(&rng), now: 10_000)
    })

    /// Every invariant of one step; returns the violations.
    static func violations(_ c: Case) -> [String] {
        let plan: Plan
        do { plan = try Planner(configuration: c.configuration).plan(c.snapshot, now: c.now) } catch {
            return ["plan threw \(error)"]
        }
        var v: [String] = []
        let s = c.snapshot
        let cfg = c.configuration

        // Each VM gets at most one directive, and only VMs and hosts that exist are named.
        let named = plan.directives.compactMap(\.vm)
        if Set(named).count != named.count { v.append("a VM got two directives") }
        for id in named where s[vm: id] == nil { v.append("directive for unknown VM \(id)") }

        // Capacity: what is added to a host (creates, migrations in) fits in its free room (reported, and
        // capacity minus the VMs listed on it); nothing is created on a host that does not accept VMs.
        for host in s.hosts {
            let listed = s.vms.filter { $0.host == host.name || $0.migratingTo == host.name }
            let room = (
                min(host.freeCPUs, host.cpus - listed.reduce(0) { $0 + $1.cpus }),
                min(host.freeMemoryMiB, host.memoryMiB - listed.reduce(0) { $0 + $1.memoryMiB })
            )
            var added = (0, 0)
            for (g, h) in plan.creates where h == host.name {
                if !host.acceptingVMs { v.append("create on \(h), which does not accept VMs") }
                let group = s[group: g]
                added.0 += group?.vmCPUs ?? 0
                added.1 += group?.vmMemoryMiB ?? 0
            }
            for (id, h) in plan.migrations where h == host.name {
                added.0 += s[vm: id]?.cpus ?? 0
                added.1 += s[vm: id]?.memoryMiB ?? 0
                if s[vm: id]?.host == h { v.append("migration of \(id) to its own host") }
            }
            if added != (0, 0) && (added.0 > room.0 || added.1 > room.1) {
                v.append("\(host.name) over capacity: adds \(added) to room \(room)")
            }
        }
        for (g, h) in plan.creates where s[host: h] == nil || s[group: g] == nil { v.append("create \(g) on \(h)?") }

        // Groups: never above max_vms by a create; never created for and drained (or preempted) in one step.
        let drainedGroups = Set((plan.drains + plan.destroys.filter { s[vm: $0]?.busy == true }).compactMap {
            s[vm: $0]?.group
        })
        for group in s.groups {
            let creates = plan.creates.filter { $0.group == group.name }.count
            guard creates > 0 else { continue }
            let holding = s.vms.filter { $0.group == group.name && $0.phase != .draining }.count
            if let max = group.maxVMs, holding + creates > max { v.append("\(group.name) above max_vms") }
            if drainedGroups.contains(group.name) { v.append("\(group.name) created for and drained") }
        }

        // Booting limits, site-wide and per host.
        let booting = s.vms.filter { $0.phase == .booting }
        if !plan.creates.isEmpty && booting.count + plan.creates.count > cfg.maxBootingSiteWide {
            v.append("site-wide booting limit: \(booting.count) + \(plan.creates.count) > \(cfg.maxBootingSiteWide)")
        }
        for host in Set(plan.creates.map(\.host)) {
            let n = booting.filter { $0.host == host }.count + plan.creates.filter { $0.host == host }.count
            if n > cfg.maxBootingPerHost { v.append("booting limit on \(host): \(n)") }
        }

        // Targets: within caps, and their total within the pool.
        var used = (0, 0)
        for t in plan.targets {
            guard let g = s[group: t.group] else { continue }
            if t.targetVMs > t.capVMs { v.append("\(t.group) target above cap") }
            used.0 += t.targetVMs * g.vmCPUs
            used.1 += t.targetVMs * g.vmMemoryMiB
        }
        if used.0 > plan.capacityCPUs || used.1 > plan.capacityMemoryMiB { v.append("targets exceed the pool") }

        // Hysteresis and preemption: a drain either respects the timers, or gives room to a group below target
        // (busy VMs past min lifetime), or preempts for a starving group. A destroy is of a draining VM that is
        // idle, of a kept idle VM whose room another group wants (`keepIdleVMs`), or preempts for a starving group:
        // then a busy VM, draining or active, is destroyed at once (its job is requeued), never one that runs a job
        // requeued before. (This used to say that only a draining VM may be destroyed busy — a preemption drained
        // first and killed a step later — which made a preemption kill the VM the graceful reclaim had drained,
        // the one whose job ends first and so, often, the one that has run longest. See docs/ARCHITECTURE.md.)
        let starving = plan.targets.contains { $0.starving }
        for id in plan.drains {
            guard let vm = s[vm: id] else { continue }
            if vm.phase != .active { v.append("drain of \(vm.phase) VM \(id)") }
            let reason = plan.reason(for: id) ?? ""
            let timers = !vm.busy && vm.idleFor(at: c.now) >= cfg.idleTimeout && vm.age(at: c.now) >= cfg.minLifetime
            let reclaim = reason.hasPrefix("room for") && vm.age(at: c.now) >= cfg.minLifetime
            let preempt = reason.hasPrefix("preempted for") && starving
            if !(timers || reclaim || preempt) { v.append("drain of \(id) breaks hysteresis: \(reason)") }
        }
        for id in plan.destroys {
            guard let vm = s[vm: id] else { continue }
            let keptIdle =
                cfg.keepIdleVMs && vm.phase == .active && !vm.busy
                && plan.reason(for: id)?.hasSuffix("is idle: destroyed at once") == true
            let preempts = starving && plan.reason(for: id)?.hasPrefix("preempted for") == true
            if vm.phase != .draining && !keptIdle && !(vm.busy && preempts) {
                v.append("destroy of \(vm.phase) VM \(id)")
            }
            if vm.busy && !preempts { v.append("destroy of busy \(id) without starvation") }
            if vm.busy && vm.runsRequeuedWideJob { v.append("destroy of \(id), whose wide job was requeued before") }
        }

        // A VM being migrated is left alone, and no other migration starts meanwhile.
        let migrating = s.vms.filter { $0.migratingTo != nil }.map(\.id)
        for id in migrating where named.contains(id) { v.append("directive for \(id), which is migrating") }
        if !migrating.isEmpty && !plan.migrations.isEmpty { v.append("migration proposed while one runs") }

        // Migrations: at most one, only when allowed.
        if plan.migrations.count > (cfg.migrationAllowed ? 1 : 0) { v.append("\(plan.migrations.count) migrations") }
        if plan.directives.contains(where: { $0.reason.isEmpty }) { v.append("a directive without a reason") }
        return v
    }

    @Test func invariantsHoldOnRandomSnapshots() async {
        await propertyCheck(count: 3_000, input: Self.cases) { c in
            let v = Self.violations(c)
            #expect(v.isEmpty, "\(v)\n\(c)")
        }
    }

    @Test func invariantsHoldOnSeededSnapshots() {
        var rng = SplitMix64(seed: 20_091_129)
        for n in 0..<2_000 {
            let c = Case(
                snapshot: RandomPool.snapshot(&rng), configuration: RandomPool.configuration(&rng), now: 10_000)
            let v = Self.violations(c)
            #expect(v.isEmpty, "case \(n): \(v)\n\(c)")
            if !v.isEmpty { return }
        }
    }

    @Test func plansDoNotDependOnTheOrderOfTheSnapshot() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let snapshot = RandomPool.snapshot(&rng)
            let planner = Planner(configuration: RandomPool.configuration(&rng))
            var shuffled = snapshot
            shuffled.groups.shuffle(using: &rng)
            shuffled.hosts.shuffle(using: &rng)
            shuffled.vms.shuffle(using: &rng)
            let a = try? planner.plan(snapshot, now: 10_000)
            let b = try? planner.plan(shuffled, now: 10_000)
            #expect(a != nil && a == b)
        }
    }
}
