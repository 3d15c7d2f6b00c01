import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

@Suite struct SimulationTests {
    let groups = twoEqualGroups

    /// One host of 4 vCPUs, VMs of 1 vCPU; boot 60 s; planner every 60 s; 4 VMs may boot at once anywhere.
    var configuration: PoolSimulation.Configuration { oneHostConfiguration() }

    /// Group a bursts (4 jobs of 1000 s at t=0) while b is idle; b sends one 100 s job at t=2000.
    var burst: [ReplayJob] {
        (1...4).map { ReplayJob(jobNumber: $0, group: "a", submitTime: 0, runTime: 1000) }
            + [ReplayJob(jobNumber: 5, group: "b", submitTime: 2000, runTime: 100)]
    }

    @Test func theStaticLayoutSplitsTheCPUsByShare() {
        let nodes = StaticLayout.nodes(groups: groups, totalCPUs: 4)
        #expect(nodes.map(\.name) == ["a-1", "a-2", "b-1", "b-2"])
        let uneven = StaticLayout.nodes(
            groups: [PoolGroup(name: "x", share: 67), PoolGroup(name: "y", share: 9), PoolGroup(name: "z", share: 24)],
            totalCPUs: 10)
        #expect(uneven.filter { $0.group == "x" }.count == 7)
        #expect(uneven.filter { $0.group == "y" }.count == 1)
        #expect(uneven.filter { $0.group == "z" }.count == 2)
        let wide = StaticLayout.nodes(groups: [PoolGroup(name: "w", share: 1, vmCPUs: 4)], totalCPUs: 10)
        #expect(wide.count == 2)
        #expect(wide.allSatisfy { $0.cpus == 4 })
    }

    @Test func aBurstOfOneGroupGetsTheWholePoolWhileTheOtherIsIdle() throws {
        var sim = try PoolSimulation(jobs: burst, groups: groups, configuration: configuration)
        try sim.advance(to: 0)
        // t=0: a's 4 pending CPUs; b has no demand: a gets all 4 vCPUs of the pool.
        #expect(sim.reconciler.vms.values.map(\.group).sorted() == ["a", "a", "a", "a"])
        #expect(sim.lastPlan?[group: "a"]?.targetVMs == 4)
        #expect(sim.lastPlan?[group: "a"]?.shareVMs == 2)
        try sim.advance(to: 60)  // the Clients join, the nodes are registered, the jobs start
        #expect(sim.batch.snapshot()[group: "a"]?.runningJobs == 4)
        #expect(sim.hosts.states.first?.freeCPUs == 0)
        let finished = try sim.runToCompletion(limit: 86_400)
        #expect(finished)
        let records = sim.batch.records()
        #expect(records.filter { $0.group == "a" }.map(\.wait) == [60, 60, 60, 60])
        // a's idle VMs are kept (nobody wants their room) until b's job at 2000: at the next planner step (2040)
        // one of them is destroyed for b, whose VM is created at the step after (2100) and joins at 2160.
        #expect(records.first { $0.group == "b" }?.wait == 160)
        let drains = sim.reconciler.decisions.filter { $0.action == .drain }
        #expect(drains.isEmpty)
        let destroys = sim.reconciler.decisions.filter { $0.action == .destroy }
        #expect(destroys.map(\.time) == [2040])
        #expect(sim.reconciler.counters.created == 5)
        #expect(sim.reconciler.counters.destroyed == 1)  // the other VMs are still there when the last job ends
        #expect(sim.reconciler.counters.failed == 0)
        #expect(sim.peakVMs == ["a": 4, "b": 1])
    }

    @Test func thePoolBeatsTheStaticSplitOnTheBurst() throws {
        let c = try Comparison(jobs: burst, groups: groups, window: nil, configuration: configuration, limit: 86_400)
        #expect(c.dynamicFinished)
        // Static: a has 2 nodes, so two of its jobs wait for the first two to end (1000 s); b's job starts at once.
        #expect(c.staticLayout[group: "a"]?.meanWait == 500)
        #expect(c.staticLayout[group: "a"]?.p95Wait == 1000)
        #expect(c.staticLayout[group: "b"]?.meanWait == 0)
        #expect(c.staticLayout.total.meanWait == 400)
        // Dynamic: every job waits for a VM to boot (60 s), b's for the next planner step and the destroy of one
        // of a's idle VMs too (160 s).
        #expect(c.dynamic[group: "a"]?.meanWait == 60)
        #expect(c.dynamic[group: "a"]?.p95Wait == 60)
        #expect(c.dynamic[group: "b"]?.meanWait == 160)
        #expect(c.dynamic.total.meanWait == 80)
        #expect(c.dynamic.counters.created == 5)
        #expect(c.dynamic.total.peakNodes == 4)
        #expect(c.staticLayout[group: "a"]?.peakNodes == 2)
        // The same work over the same horizon: the same utilisation.
        #expect(c.dynamic.total.cpuSecondsUsed == 4100)
        #expect(c.staticLayout.total.cpuSecondsUsed == 4100)
        #expect(c.dynamic.elapsed == c.staticLayout.elapsed)
        #expect(c.dynamic.utilisation == c.staticLayout.utilisation)
    }

    @Test func whenBothGroupsAreBusyEachGetsItsShare() throws {
        // Both groups submit 4 long jobs at t=0: the pool splits 2/2, like the static layout.
        let jobs = (1...8).map { ReplayJob(jobNumber: $0, group: $0 <= 4 ? "a" : "b", submitTime: 0, runTime: 1000) }
        var sim = try PoolSimulation(jobs: jobs, groups: groups, configuration: configuration)
        try sim.advance(to: 0)
        #expect(sim.lastPlan?[group: "a"]?.targetVMs == 2)
        #expect(sim.lastPlan?[group: "b"]?.targetVMs == 2)
        #expect(sim.reconciler.vms.values.filter { $0.group == "a" }.count == 2)
        #expect(sim.reconciler.vms.values.filter { $0.group == "b" }.count == 2)
        #expect(try sim.runToCompletion(limit: 86_400))
        // The second pair of each group starts when the first ends (60 + 1000 s): the boot delay is the price
        // of the pool when every group is busy (the static layout would give 0 and 1000).
        #expect(sim.batch.records().map(\.wait) == [60, 60, 1060, 1060, 60, 60, 1060, 1060])
    }

    @Test func rebalanceDrivesThePlannerFromTheBatchSnapshot() throws {
        var r = try Reconciler(groups: groups)
        let hosts = [HostState(name: "h1", cpus: 4, memoryMiB: 8192)]
        let step = try r.rebalance(
            batch: BatchSnapshot(time: 0, groups: [GroupDemand(group: "b", pendingJobs: 3, pendingCPUs: 3)]),
            hosts: hosts, now: 0, planner: Planner())
        #expect(step.snapshot[group: "b"]?.pendingCPUs == 3)
        #expect(step.plan[group: "b"]?.targetVMs == 3)
        // The planner's default: at most 2 VMs booting per host.
        #expect(step.operations.names == ["create b-vm-1@h1", "create b-vm-2@h1"])
        // The next step sees the two VMs booting (no Client joined yet) and waits for the host's booting slots.
        let again = try r.rebalance(
            batch: BatchSnapshot(time: 60, groups: [GroupDemand(group: "b", pendingJobs: 3, pendingCPUs: 3)]),
            hosts: hosts, now: 60, planner: Planner())
        #expect(again.operations.isEmpty)
        #expect(again.snapshot.vms.allSatisfy { $0.phase == .booting })
    }

    @Test func badSimulationSettingsAreErrors() {
        #expect(throws: PoolError.self) {
            try PoolSimulation(jobs: [], groups: groups, configuration: .init(hosts: 0))
        }
        #expect(throws: PoolError.self) {
            try PoolSimulation(
                jobs: [ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 10, processors: 0)], groups: groups)
        }
    }
}
