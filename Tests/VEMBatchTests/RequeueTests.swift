import Testing

@testable import VEMBatch

/// A node's VM destroyed under its jobs (preemption): the batch system requeues them.
@Suite struct RequeueTests {
    /// Nodes a1 and a2 of group a (1 CPU each); J1(0, 100) on a1, J2(0, 100) on a2, J3(10, 50) waiting; at 40.
    func twoNodesThreeJobsAt40() throws -> ReplayBatch {
        var batch = try ReplayBatch(jobs: [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100),
            ReplayJob(jobNumber: 2, group: "a", submitTime: 0, runTime: 100),
            ReplayJob(jobNumber: 3, group: "a", submitTime: 10, runTime: 50),
        ])
        try batch.register([
            NodeRegistration(name: "a1", group: "a", cpus: 1), NodeRegistration(name: "a2", group: "a", cpus: 1),
        ])
        batch.advance(to: 40)
        return batch
    }

    @Test func jobsOfADestroyedNodeGoBackToTheirPlaceInTheQueue() throws {
        // Nodes a1 and a2 (1 CPU each). J1(0, 100) on a1, J2(0, 100) on a2, J3(10, 50) waits.
        // At 40, a1's VM is destroyed: J1 is requeued ahead of J3 (it was submitted first) and a1 is drained.
        // J1 restarts when J2 ends on a2 (100) and ends at 200; J3 starts there at 200 and ends at 250.
        var batch = try twoNodesThreeJobsAt40()
        #expect(try batch.requeueJobs(onNode: "a1") == 1)
        #expect(batch.state(of: "a1") == .drained)
        #expect(batch.snapshot()[group: "a"]?.pendingJobs == 2)
        #expect(batch.snapshot()[group: "a"]?.headJobCPUs == 1)
        try batch.remove(node: "a1")
        batch.runToCompletion()
        #expect(batch.records().map(\.start) == [100, 0, 200])
        #expect(batch.records().map(\.end) == [200, 100, 250])
        #expect(batch.requeuedJobs == 1 && batch.lostCPUSeconds == 40)
        #expect(batch.invariantViolations().isEmpty)
    }

    @Test func aDownedNodesJobsAreRequeuedAtOnceAndItTakesNoNewOne() throws {
        // At 40 a1 goes down (Slurm's `State=DOWN`, before its VM is destroyed): J1 is requeued, and a1 takes
        // neither J1 nor J3 although its CPU is free; both wait for a2.
        var batch = try twoNodesThreeJobsAt40()
        #expect(try batch.down(node: "a1", reason: "vem: a1 preempted") == 1)
        batch.advance(to: 60)
        #expect(batch.state(of: "a1") == .drained)
        #expect(batch.records().map(\.status) == [.pending, .running, .pending])
        #expect(throws: BatchError.self) { try batch.down(node: "ghost") }
    }

    @Test func nodesSayWhenTheirLastJobStartedAndWhetherItWasRequeued() throws {
        // J1 on a1 from 0; J2 on a2 from 0; J3 waits. At 40 a1's VM is destroyed; J1 restarts on a2 at 100.
        var batch = try twoNodesThreeJobsAt40()
        var nodes = try #require(batch.snapshot()[group: "a"]?.nodes)
        #expect(nodes.map(\.busySince) == [0, 0] && nodes.map(\.requeuedJobs) == [0, 0])
        try batch.requeueJobs(onNode: "a1")
        try batch.remove(node: "a1")
        batch.advance(to: 120)
        nodes = try #require(batch.snapshot()[group: "a"]?.nodes)
        #expect(nodes.map(\.name) == ["a2"])
        #expect(nodes.map(\.busySince) == [100] && nodes.map(\.requeuedJobs) == [1])
        batch.advance(to: 210)  // J3 runs on a2 from 200: never requeued
        nodes = try #require(batch.snapshot()[group: "a"]?.nodes)
        #expect(nodes.map(\.busySince) == [200] && nodes.map(\.requeuedJobs) == [0])
    }

    @Test func nodesSayTheWorkAKillWouldLoseCountingWideJobsWhole() throws {
        // J1 (2 CPUs) spans a1 and a2 from 0; J2 (1 CPU) runs on a3 from 30. At 40 a kill of a1 or a2 would lose J1
        // whole (2 × 40), of a3 J2's 10 s; an idle node says nothing.
        var batch = try ReplayBatch(jobs: [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100, processors: 2),
            ReplayJob(jobNumber: 2, group: "a", submitTime: 30, runTime: 100),
        ])
        try batch.register([
            NodeRegistration(name: "a1", group: "a", cpus: 1), NodeRegistration(name: "a2", group: "a", cpus: 1),
            NodeRegistration(name: "a3", group: "a", cpus: 1), NodeRegistration(name: "a4", group: "a", cpus: 1),
        ])
        batch.advance(to: 40)
        let nodes = try #require(batch.snapshot()[group: "a"]?.nodes)
        #expect(nodes.map(\.workAtRisk) == [80, 80, 10, nil])
        #expect(batch.invariantViolations().isEmpty)
    }

    @Test func nodesSayWhenTheirJobsEndByTheirEstimates() throws {
        var batch = try ReplayBatch(jobs: [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100, estimatedTime: 300, processors: 2)
        ])
        try batch.register([
            NodeRegistration(name: "a1", group: "a", cpus: 1), NodeRegistration(name: "a2", group: "a", cpus: 1),
            NodeRegistration(name: "a3", group: "a", cpus: 1),
        ])
        batch.advance(to: 10)
        let nodes = try #require(batch.snapshot()[group: "a"]?.nodes)
        #expect(nodes.map(\.busyUntil) == [300, 300, nil])
    }

    @Test func nodesSayWhetherTheirRequeuedJobsSpanSeveralNodes() throws {
        // J1 (2 CPUs) on a1 and a2, J2 (1 CPU) on a3, both from 0. At 40 a2's and a3's VMs are destroyed: both jobs
        // are requeued and restart at 40 on the nodes left (a1, a4, a5). A preemption may kill J2 again (one node),
        // not J1 (it would have to gather two nodes again).
        var batch = try ReplayBatch(jobs: [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100, processors: 2),
            ReplayJob(jobNumber: 2, group: "a", submitTime: 0, runTime: 100),
        ])
        try batch.register(
            ["a1", "a2", "a3", "a4", "a5"].map { NodeRegistration(name: $0, group: "a", cpus: 1) })
        batch.advance(to: 40)
        try batch.requeueJobs(onNode: "a2")
        try batch.requeueJobs(onNode: "a3")
        let nodes = try #require(batch.snapshot()[group: "a"]?.nodes).filter { $0.runningJobs > 0 }
        #expect(nodes.map(\.name) == ["a1", "a4", "a5"])
        #expect(nodes.map(\.requeuedJobs) == [1, 1, 1])
        #expect(nodes.map(\.requeuedWideJobs) == [1, 1, 0])
        #expect(batch.invariantViolations().isEmpty)
    }
}
