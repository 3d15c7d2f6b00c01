import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// The closed loop when a group with demand within its share finds its room held by another group's long jobs:
/// graceful reclaim waits for them to end; preemption (past the grace time) takes the room back sooner, at the
/// cost of the killed job's work.
@Suite struct PreemptionSimulationTests {
    let groups = twoEqualGroups

    /// One host of 4 vCPUs, VMs of 1 vCPU; boot 60 s; planner every 60 s; idle VMs kept until wanted;
    /// preemption after 300 s.
    var configuration: PoolSimulation.Configuration { oneHostConfiguration(starvationGrace: 300) }

    /// b's jobs 1 and 2 start at 60, 3 and 4 at 1060 (a has no demand: b borrows a's half); all run 20,000 s.
    /// a's job at 3000 finds no room, and past the grace one of b's jobs is killed for it. Run to completion.
    func oneKillForA() throws -> PoolSimulation {
        let jobs =
            [0, 0, 1000, 1000].enumerated().map {
                ReplayJob(jobNumber: $0.offset + 1, group: "b", submitTime: $0.element, runTime: 20_000)
            } + [ReplayJob(jobNumber: 5, group: "a", submitTime: 3000, runTime: 100)]
        var sim = try PoolSimulation(jobs: jobs, groups: groups, configuration: configuration)
        #expect(try sim.runToCompletion(limit: 2 * 86_400))
        return sim
    }

    @Test func preemptionKillsTheJobThatHasDoneLeastWork() throws {
        // The graceful reclaim drains the VM whose job ends first (1's or 2's); past the grace the preemption used
        // to kill that one, losing 3,000 s of work, rather than 3's or 4's.
        let sim = try oneKillForA()
        let records = sim.batch.records()
        #expect(sim.batch.requeuedJobs == 1)
        #expect(records[0].start == 60 && records[1].start == 60)  // the old jobs were never killed
        #expect(sim.batch.lostCPUSeconds < 2_500)
        // a is served within the grace, a step to drain, a step to destroy, a step and a boot.
        let allowance = GuaranteeCheck.allowance(tick: 60, bootDelay: 60, grace: 300)
        #expect(try #require(records[4].wait) <= allowance)
    }

    @Test func theModelRequeuesAtTheDownBeforeTheDestroyAsTheManagerDoes() throws {
        // The scenario above: one b job is killed for a. The Reconciler marks the busy VM's node down first (the
        // replay batch requeues its job there, as Slurm's `State=DOWN` does) and destroys the VM after, so no VM
        // is destroyed under a running job; before, the destroy requeued it.
        let sim = try oneKillForA()
        #expect(sim.batch.requeuedJobs == 1)
        #expect(sim.reconciler.counters.busyDestroyed == 1)
        #expect(sim.destroysUnderJobs == 0)
        #expect(sim.reconciler.counters.failed == 0)
    }

    @Test func aDestroyedVMsNodeTakesNoJobWhenItWasIdleAlready() throws {
        // The planner destroys a VM it saw busy (a preemption) before its node is removed; by the time the destroy
        // runs, its job may have ended or been requeued by the kill of another VM of the same wide job (KTH-SP2
        // `202d11h`: the second of two VMs killed for a starving group). The model left such an idle node taking
        // jobs: the next job started on the dead VM and ran there for hours, and each removal of the node failed
        // ("still runs 1 job"). It must take no job, as Slurm marks a dead VM's node down.
        let jobs = [
            ReplayJob(jobNumber: 1, group: "b", submitTime: 0, runTime: 100),
            ReplayJob(jobNumber: 2, group: "b", submitTime: 400, runTime: 100),
        ]
        var sim = try PoolSimulation(jobs: jobs, groups: groups, configuration: configuration)
        try sim.advance(to: 300)
        let vm = try #require(sim.reconciler.vms.values.first { !$0.gone })
        #expect(sim.batch.state(of: vm.id) == .idle)
        let outcome = sim.perform(PoolOperation(id: 1_000_000, vm: vm.id, kind: .destroyVM(host: vm.host)), at: 300)
        guard case .success = outcome else {
            Issue.record("the destroy failed")
            return
        }
        #expect(sim.batch.state(of: vm.id) == .drained)  // was `.idle`: job 2, at 400, would have started there
    }
}
