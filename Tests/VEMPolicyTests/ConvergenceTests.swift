import PropertyBased
import Testing

@testable import VEMPolicy

/// Closed-loop runs: apply the plan, advance time, repeat, with constant demand. Every group must reach its
/// water-filling target within a bound of steps, and the pool must then stay still (no oscillation).
@Suite struct ConvergenceTests {
    struct Case: CustomStringConvertible {
        var simulation: PoolSimulation
        var description: String {
            "workload \(simulation.workload) cfg \(simulation.planner.configuration)\n\(simulation.snapshot)"
        }
    }

    /// One VM size per case and hosts a whole number of VMs big, so every target can be placed; a random
    /// initial pool (possibly one group holding everything, busy) and random constant workloads.
    static func randomCase<R: RandomNumberGenerator>(_ rng: inout R, mixedSizes: Bool = false) -> Case {
        let cpus = mixedSizes ? 1 : [1, 2, 4].randomElement(using: &rng)!
        let names = RandomPool.groupNames.prefix(Int.random(in: 2...4, using: &rng))
        var groups = names.map { name in
            GroupState(
                name: name, share: Double([1, 2, 3, 5].randomElement(using: &rng)!),
                minVMs: Int.random(in: 0...4, using: &rng) == 0 ? 1 : 0, vmCPUs: cpus, vmMemoryMiB: cpus * 1024)
        }
        if mixedSizes {  // one group of 2-vCPU VMs among 1-vCPU ones: room can end up scattered
            groups[0].vmCPUs = 2
            groups[0].vmMemoryMiB = 2048
        }
        let hosts = (0..<Int.random(in: 1...5, using: &rng)).map { i in
            let slots = Int.random(in: 1...6, using: &rng) * (mixedSizes ? 2 : 1)
            return HostState(name: "host\(i)", cpus: slots * cpus, memoryMiB: slots * cpus * 1024)
        }
        var vms: [VMState] = []
        let hog = groups.randomElement(using: &rng)!.name
        for host in hosts where Bool.random(using: &rng) {
            for slot in 0..<(host.cpus / cpus) where Int.random(in: 0...3, using: &rng) != 0 {
                let group = Bool.random(using: &rng) ? hog : groups.randomElement(using: &rng)!.name
                guard !mixedSizes || group != groups[0].name else { continue }
                vms.append(
                    VMState(
                        id: "\(host.name)-\(slot)", group: group, host: host.name, phase: .active, busy: false,
                        idleSince: 0, createdAt: -Int.random(in: 0...2000, using: &rng), cpus: cpus,
                        memoryMiB: cpus * 1024))
            }
        }
        let slots = hosts.reduce(0) { $0 + $1.cpus / cpus }
        let workload = Dictionary(
            uniqueKeysWithValues: groups.map {
                ($0.name, Int.random(in: 0...3, using: &rng) == 0 ? 0 : Int.random(in: 1...(slots + 3), using: &rng))
            })
        let configuration = PolicyConfiguration(
            maxBootingSiteWide: Int.random(in: 1...4, using: &rng),
            maxBootingPerHost: Int.random(in: 1...2, using: &rng),
            minLifetime: [0, 300, 900].randomElement(using: &rng)!,
            idleTimeout: [0, 120, 600].randomElement(using: &rng)!,
            starvationGrace: [0, 600, 1800].randomElement(using: &rng)!,
            placement: Bool.random(using: &rng) ? .pack : .spread,
            migrationAllowed: mixedSizes || Bool.random(using: &rng), keepIdleVMs: Bool.random(using: &rng))
        let snapshot = Build.withFreeFromVMs(PoolSnapshot(groups: groups, hosts: hosts, vms: vms))
        return Case(
            simulation: PoolSimulation(
                snapshot: snapshot, workload: workload, planner: Planner(configuration: configuration)))
    }

    /// Steps within which the pool must converge: time for the timers, then every slot booted through the
    /// booting limit, twice (drain, then create), with room to spare.
    static func bound(_ sim: PoolSimulation) -> Int {
        let c = sim.planner.configuration
        let slots = sim.snapshot.hosts.reduce(0) { $0 + $1.cpus }
        let timers = (c.minLifetime + c.idleTimeout + c.starvationGrace + sim.drainJobSeconds) / sim.step
        return timers + 2 * (slots / max(1, min(c.maxBootingSiteWide, c.maxBootingPerHost)) + 1) + 8
    }

    /// What the runs went through, so a passing run is known to have exercised each mechanism.
    struct Coverage {
        var kinds: [String: Int] = [:]
        mutating func record(_ plans: [Plan]) {
            for d in plans.flatMap(\.directives) {
                let kind =
                    switch d.action {
                    case .create: "create"
                    case .migrate: "migrate"
                    case .destroy: d.reason.hasPrefix("preempted") ? "kill" : "destroy"
                    case .drain:
                        d.reason.hasPrefix("preempted")
                            ? "preempt-drain" : d.reason.hasPrefix("room for") ? "reclaim" : "drain"
                    }
                kinds[kind, default: 0] += 1
            }
        }
    }

    /// Runs a case; returns the violations.
    static func check(_ c: Case, coverage: inout Coverage) -> [String] {
        var sim = c.simulation
        defer { coverage.record(sim.history) }
        let limit = bound(sim)
        var convergedAt: Int?
        do {
            for step in 0..<(limit + 20) {
                let plan = try sim.tick()
                // Settled: every group at its target; with `keepIdleVMs` a group may hold more (idle VMs kept)
                // while every group holds at least its target (nobody wants their room).
                let keeps = sim.planner.configuration.keepIdleVMs
                let atTarget = plan.targets.allSatisfy {
                    keeps ? sim.holding($0.group) >= $0.targetVMs : sim.holding($0.group) == $0.targetVMs
                }
                let settled =
                    atTarget && !sim.snapshot.vms.contains { $0.phase == .draining || $0.phase == .booting }
                if convergedAt == nil, settled, plan.directives.isEmpty { convergedAt = step }
                if let at = convergedAt, step > at, !plan.directives.isEmpty {
                    return ["oscillates: at step \(step), after converging at \(at): \(plan.directives)"]
                }
            }
        } catch {
            return ["plan threw \(error)"]
        }
        guard let at = convergedAt else {
            let last = sim.history.last
            return [
                "no convergence in \(limit + 20) steps: targets \(last?.targets.map { ($0.group, $0.targetVMs) } ?? []) "
                    + "holding \(sim.snapshot.groups.map { ($0.name, sim.holding($0.name)) }) notes \(last?.notes ?? [])"
            ]
        }
        var v: [String] = []
        if at > limit { v.append("converged at step \(at), bound \(limit)") }
        // At convergence each group with enough demand holds at least its share — unless a group's min_vms
        // holds more than that group's own share (minimums come first).
        let minimumsAboveShares =
            sim.history.last?.targets.contains { t in
                (sim.snapshot[group: t.group]?.minVMs ?? 0) > t.shareVMs
            } ?? false
        if let plan = sim.history.last, !minimumsAboveShares {
            for t in plan.targets where sim.holding(t.group) < t.guaranteedVMs {
                v.append("\(t.group) holds \(sim.holding(t.group)) < guaranteed \(t.guaranteedVMs)")
            }
        }
        return v
    }

    @Test func randomPoolsConvergeAndStayStill() async {
        let cases = Generator<Case, Shrink.None<Case>>(run: { Self.randomCase(&$0) })
        await propertyCheck(count: 300, input: cases) { c in
            var coverage = Coverage()
            let v = Self.check(c, coverage: &coverage)
            #expect(v.isEmpty, "\(v)\n\(c)")
        }
    }

    @Test func seededPoolsConvergeAndStayStill() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        var coverage = Coverage()
        for n in 0..<300 {
            let c = Self.randomCase(&rng)
            let v = Self.check(c, coverage: &coverage)
            #expect(v.isEmpty, "case \(n): \(v)\n\(c)")
            if !v.isEmpty { return }
        }
        // Every mechanism took part in some run.
        for kind in ["create", "drain", "destroy", "reclaim", "preempt-drain", "kill"] {
            #expect(coverage.kinds[kind, default: 0] > 0, "no \(kind) in 300 runs: \(coverage.kinds)")
        }
    }

    /// One group's VMs twice as big as the others': free room can end up scattered over hosts, and migrations
    /// gather it; the pool still converges and stays still.
    @Test func mixedSizePoolsConvergeWithMigrations() {
        var rng = SplitMix64(seed: 0x5CA77E4)
        var coverage = Coverage()
        for n in 0..<300 {
            let c = Self.randomCase(&rng, mixedSizes: true)
            let v = Self.check(c, coverage: &coverage)
            #expect(v.isEmpty, "case \(n): \(v)\n\(c)")
            if !v.isEmpty { return }
        }
        #expect(coverage.kinds["migrate", default: 0] > 0, "no migration in 300 runs: \(coverage.kinds)")
    }
}
