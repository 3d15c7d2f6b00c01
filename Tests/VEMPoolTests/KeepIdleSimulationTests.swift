import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// The closed loop in a quiet machine: the pool used to pay a VM boot for every job that came after a lull.
@Suite struct KeepIdleSimulationTests {
    let groups = twoEqualGroups

    /// One host of 4 vCPUs, VMs of 1 vCPU; boot 60 s; planner every 60 s; idle VMs kept until wanted
    /// (`keepIdleVMs`, what `vem simulate` runs), which used to be drained after 300 s idle and 600 s alive.
    var configuration: PoolSimulation.Configuration { oneHostConfiguration() }

    @Test func aJobAfterALullFindsItsGroupsVMWaiting() throws {
        // a sends a job at 0 and another an hour later; nobody else wants the room meanwhile.
        let jobs = [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100),
            ReplayJob(jobNumber: 2, group: "a", submitTime: 3600, runTime: 100),
        ]
        var sim = try PoolSimulation(jobs: jobs, groups: groups, configuration: configuration)
        #expect(try sim.runToCompletion(limit: 86_400))
        // The first waits for its VM to boot; the second starts at once on the same VM (it used to wait again).
        #expect(sim.batch.records().map(\.wait) == [60, 0])
        #expect(sim.reconciler.counters.created == 1)
    }

    @Test func anIdleVMIsGivenAtOnceToAGroupThatWantsItsRoom() throws {
        // a fills the host with 4 jobs at 0 (100 s); an hour later b's job finds a's 4 VMs idle: one is destroyed
        // at b's first planner step (3600), b's VM is created at the next (3660) and joins at 3720.
        let jobs =
            (1...4).map { ReplayJob(jobNumber: $0, group: "a", submitTime: 0, runTime: 100) }
            + [ReplayJob(jobNumber: 5, group: "b", submitTime: 3600, runTime: 100)]
        var sim = try PoolSimulation(jobs: jobs, groups: groups, configuration: configuration)
        #expect(try sim.runToCompletion(limit: 86_400))
        #expect(sim.batch.records().map(\.wait) == [60, 60, 60, 60, 120])
        let destroyed = sim.reconciler.decisions.filter { $0.action == .destroy }
        #expect(destroyed.map(\.time) == [3600])
        #expect(destroyed.first?.reason.hasPrefix("room for b") == true)
    }
}
