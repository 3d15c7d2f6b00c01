import Testing

@testable import VEMBatch

/// Small hand-made traces whose every wait is worked out by hand (the arithmetic is in the comments).
/// Notation: `Jn(submit, run, procs, est)`; est = the estimate used for reservations (run time when absent).
@Suite struct ReplayScenarioTests {
    static func job(_ n: Int, _ group: String = "a", submit: Int, run: Int, procs: Int = 1, est: Int? = nil)
        -> ReplayJob
    {
        ReplayJob(jobNumber: n, group: group, submitTime: submit, runTime: run, estimatedTime: est, processors: procs)
    }

    /// Waits by job number (nil for a job that has not started).
    static func waits(_ batch: ReplayBatch) -> [Int: Int?] {
        Dictionary(uniqueKeysWithValues: batch.records().map { ($0.jobNumber, $0.wait) })
    }

    @Test func fcfsOnOneNode() throws {
        // One node of 1 CPU. J1(0, 100), J2(10, 50), J3(20, 30).
        // J1 starts at 0 (wait 0) and ends at 100; J2 starts at 100 (wait 100 − 10 = 90) and ends at 150;
        // J3 starts at 150 (wait 150 − 20 = 130) and ends at 180.
        var batch = try ReplayBatch(jobs: [
            Self.job(1, submit: 0, run: 100), Self.job(2, submit: 10, run: 50), Self.job(3, submit: 20, run: 30),
        ])
        try batch.register(NodeRegistration(name: "a1", group: "a", cpus: 1))
        batch.runToCompletion()
        #expect(Self.waits(batch) == [1: 0, 2: 90, 3: 130])
        #expect(batch.records().map(\.end) == [100, 150, 180])
        #expect(batch.now == 180)
        // mean (0 + 90 + 130) / 3; p95 = the ⌈0.95 × 3⌉ = 3rd smallest = 130.
        // CPU-seconds 100 + 50 + 30 = 180 used of 1 CPU × (180 − 0) offered: utilisation 1.
        let stats = try #require(batch.statistics()[group: "a"])
        #expect(stats.finished == 3 && stats.meanWait == 220.0 / 3 && stats.p95Wait == 130 && stats.maxWait == 130)
        #expect(stats.cpuSecondsUsed == 180 && stats.cpuSecondsOffered == 180 && stats.utilisation == 1)
    }

    @Test func twoGroupsAreIsolated() throws {
        // Group a: node a1 (1 CPU); group b: node b1 (1 CPU).
        // A1(0, 100) starts at 0. A2(0, 100) waits for A1 although b1 is idle until 50: starts 100, wait 100.
        // B1(50, 10) starts at 50 on b1 despite a's queue: wait 0, ends 60.
        // B2(55, 10) waits for B1: starts 60, wait 60 − 55 = 5.
        // A3(60, 10) waits for A2 (ends 200): starts 200, wait 200 − 60 = 140.
        var batch = try ReplayBatch(jobs: [
            Self.job(1, "a", submit: 0, run: 100), Self.job(2, "a", submit: 0, run: 100),
            Self.job(3, "b", submit: 50, run: 10), Self.job(4, "b", submit: 55, run: 10),
            Self.job(5, "a", submit: 60, run: 10),
        ])
        try batch.register([
            NodeRegistration(name: "a1", group: "a", cpus: 1), NodeRegistration(name: "b1", group: "b", cpus: 1),
        ])
        batch.runToCompletion()
        #expect(Self.waits(batch) == [1: 0, 2: 100, 3: 0, 4: 5, 5: 140])
        let stats = batch.statistics()
        // b: 20 CPU-seconds used of 1 CPU × (210 − 0); a: 210 of 210.
        #expect(stats[group: "b"]?.cpuSecondsUsed == 20 && stats[group: "b"]?.cpuSecondsOffered == 210)
        #expect(stats[group: "a"]?.utilisation == 1)
        #expect(stats.total.finished == 5 && stats.total.meanWait == 245.0 / 5)
    }

    @Test func backfillJumpsShortJobsWithoutDelayingTheHead() throws {
        // One node of 4 CPUs.
        // J1(0, 100, 2 procs) starts at 0; 2 CPUs stay free.
        // J2(10, 50, 4 procs) does not fit: it is the head. Its reservation: J1 ends (est) at 100, then 4 CPUs
        //   are free, so shadow = 100 and extra = 4 − 4 = 0.
        // J3(20, 50, 1 proc, est 60): fits, and 20 + 60 = 80 ≤ 100: backfilled at 20 (wait 0), ends 70.
        // J4(30, 100, 1 proc, est 100): fits, but 30 + 100 = 130 > 100 and extra = 0: it would delay J2, waits.
        // J5(40, 30, 1 proc, est 30): fits (1 CPU left), 40 + 30 = 70 ≤ 100: backfilled at 40 (wait 0), ends 70.
        // At 70 J3 and J5 end; J4 still cannot go (70 + 100 > 100, extra 0).
        // At 100 J1 ends: J2 starts exactly at its reservation (wait 100 − 10 = 90), all 4 CPUs busy.
        // At 150 J2 ends: J4 starts (wait 150 − 30 = 120), ends 250.
        var batch = try ReplayBatch(jobs: [
            Self.job(1, submit: 0, run: 100, procs: 2), Self.job(2, submit: 10, run: 50, procs: 4),
            Self.job(3, submit: 20, run: 50, est: 60), Self.job(4, submit: 30, run: 100, est: 100),
            Self.job(5, submit: 40, run: 30, est: 30),
        ])
        try batch.register(NodeRegistration(name: "a1", group: "a", cpus: 4))
        batch.runToCompletion()
        #expect(Self.waits(batch) == [1: 0, 2: 90, 3: 0, 4: 120, 5: 0])
        #expect(batch.records().first { $0.jobNumber == 4 }?.end == 250)
    }

    @Test func backfillMayUseTheCPUsTheHeadLeavesSpare() throws {
        // One node of 4 CPUs.
        // J1(0, 100, 3 procs) starts at 0; 1 CPU free.
        // J2(10, 10, 2 procs) is the head: at J1's end (100) 4 CPUs are free: shadow 100, extra 4 − 2 = 2.
        // J3(20, 1000, 1 proc): 20 + 1000 > 100, but 1 ≤ extra: backfilled at 20 (wait 0); extra becomes 1.
        // At 100 J1 ends: 3 CPUs free ≥ 2: J2 starts on time (wait 90), ends 110. J3 ends 1020.
        var batch = try ReplayBatch(jobs: [
            Self.job(1, submit: 0, run: 100, procs: 3), Self.job(2, submit: 10, run: 10, procs: 2),
            Self.job(3, submit: 20, run: 1000),
        ])
        try batch.register(NodeRegistration(name: "a1", group: "a", cpus: 4))
        batch.runToCompletion()
        #expect(Self.waits(batch) == [1: 0, 2: 90, 3: 0])
        #expect(batch.now == 1020)
    }

    @Test func drainMidRun() throws {
        // Group a: nodes a1 and a2, 1 CPU each (first fit: a1 before a2).
        // J1(0, 100) → a1, J2(0, 50) → a2. J3(10, 40) and J4(10, 40) wait.
        // At 30 a2 is drained: J2 goes on and ends at 50, but a2 then takes nothing (drained).
        // So J3 waits for a1: starts 100 (wait 100 − 10 = 90), ends 140; J4 starts 140 (wait 130), ends 180.
        // (Without the drain J3 would have started at 50 on a2.)
        var batch = try ReplayBatch(jobs: [
            Self.job(1, submit: 0, run: 100), Self.job(2, submit: 0, run: 50),
            Self.job(3, submit: 10, run: 40), Self.job(4, submit: 10, run: 40),
        ])
        try batch.register([
            NodeRegistration(name: "a1", group: "a", cpus: 1), NodeRegistration(name: "a2", group: "a", cpus: 1),
        ])
        batch.advance(to: 30)
        try batch.drain(node: "a2", reason: "surplus")
        #expect(batch.state(of: "a2") == .draining)
        #expect(batch.snapshot()[group: "a"]?.usableCPUs == 1)
        let busy = #expect(throws: BatchError.self) { try batch.remove(node: "a2") }
        #expect(busy?.code == .invalidNodeState)
        batch.advance(to: 60)
        #expect(batch.state(of: "a2") == .drained)
        #expect(batch.state(of: "a1") == .allocated)
        try batch.remove(node: "a2")
        #expect(batch.state(of: "a2") == nil)
        batch.runToCompletion()
        #expect(Self.waits(batch) == [1: 0, 2: 0, 3: 90, 4: 130])
        #expect(batch.records().map(\.end) == [100, 50, 140, 180])
        // Offered: a1 1 CPU × 180 s + a2 1 CPU × 60 s (removed at 60) = 240; used 100 + 50 + 40 + 40 = 230.
        let stats = try #require(batch.statistics()[group: "a"])
        #expect(stats.cpuSecondsOffered == 240 && stats.cpuSecondsUsed == 230)
    }

    @Test func nodeRegisteredMidRun() throws {
        // Group a: node a1 (1 CPU). J1(0, 100) runs on a1; J2(10, 20) and J3(20, 20) wait.
        // At 30 the snapshot shows 2 pending jobs / 2 CPUs, the oldest waiting 30 − 10 = 20 s.
        // Node a2 (1 CPU) is registered at 30: J2 starts on it at once (wait 30 − 10 = 20) and ends at 50;
        // J3 then starts on a2 at 50 (wait 50 − 20 = 30), ends 70. J1 ends 100 on a1.
        var batch = try ReplayBatch(jobs: [
            Self.job(1, submit: 0, run: 100), Self.job(2, submit: 10, run: 20), Self.job(3, submit: 20, run: 20),
        ])
        try batch.register(NodeRegistration(name: "a1", group: "a", cpus: 1))
        batch.advance(to: 30)
        let before = try #require(batch.snapshot()[group: "a"])
        #expect(before.pendingJobs == 2 && before.pendingCPUs == 2 && before.longestWait == 20)
        #expect(before.runningJobs == 1 && before.runningCPUs == 1 && before.nodes.map(\.state) == [.allocated])
        try batch.register(NodeRegistration(name: "a2", group: "a", cpus: 1, memoryMB: 2048))
        let after = try #require(batch.snapshot()[group: "a"])
        #expect(after.pendingJobs == 1 && after.runningJobs == 2 && after.nodes.map(\.name) == ["a1", "a2"])
        batch.runToCompletion()
        #expect(Self.waits(batch) == [1: 0, 2: 20, 3: 30])
        #expect(batch.invariantViolations().isEmpty)
    }
}
