import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// The instrument of `vem simulate`: every job counts, at one horizon, in the three layouts.
@Suite struct MetricsTests {
    @Test func aJobNotStartedCountsWithItsWaitSoFar() {
        let waiting = JobOutcome(group: "a", processors: 1, submit: 100, runTime: 50)
        #expect(waiting.wait(at: 1000) == 900)
        #expect(waiting.boundedSlowdown(at: 1000) == 19)  // (900 + 50) / 50
        let short = JobOutcome(group: "a", processors: 1, submit: 0, runTime: 5, start: 5, end: 10)
        #expect(short.boundedSlowdown(at: 1000) == 1)  // (5 + 5) / max(5, 10)
        let long = JobOutcome(group: "a", processors: 2, submit: 0, runTime: 100, start: 100, end: 200)
        #expect(long.boundedSlowdown(at: 1000) == 2)
        #expect(long.cpuSeconds(at: 150) == 100)

        let summary = WaitSummary(
            [
                JobOutcome(group: "a", processors: 1, submit: 0, runTime: 10, start: 0, end: 10),
                JobOutcome(group: "a", processors: 1, submit: 0, runTime: 10, start: 10, end: 20),
                JobOutcome(group: "a", processors: 1, submit: 0, runTime: 10, start: 20),
                JobOutcome(group: "a", processors: 8, submit: 100, runTime: 10, neverRuns: true),
            ], horizon: 1000)
        #expect(summary.jobs == 4 && summary.started == 3 && summary.finished == 2)
        #expect(summary.waiting == 1 && summary.neverRuns == 1)
        #expect(summary.meanWait == (0 + 10 + 20 + 900) / 4.0)
        #expect(summary.p95Wait == 900 && summary.maxWait == 900)
        #expect(summary.meanBoundedSlowdown == (1 + 2 + 3 + 91) / 4.0)
    }

    @Test func theIdealMachineOrdersByFairShareNotByArrival() {
        // Two CPUs; a sends 4 jobs at 0, b 2 jobs at 10 (100 s each, equal shares). First come first served would
        // start b's first job at 200; fair share starts it as soon as a CPU frees up, beside a's third.
        let jobs =
            (1...4).map { ReplayJob(jobNumber: $0, group: "a", submitTime: 0, runTime: 100) }
            + (5...6).map { ReplayJob(jobNumber: $0, group: "b", submitTime: 10, runTime: 100) }
        var ideal = IdealLayout(
            jobs: jobs, groups: [PoolGroup(name: "a", share: 50), PoolGroup(name: "b", share: 50)], window: nil,
            cpus: 2)
        ideal.runToCompletion()
        #expect(ideal.outcomes.map(\.start) == [0, 0, 100, 200, 100, 200])
    }

    @Test func theIdealMachineBackfillsWithoutDelayingTheReservedJob() {
        // Four CPUs. 1 (a, 2 CPUs, 100 s) runs; 2 (a, 4 CPUs) is reserved for 100; 3 (b, 2 CPUs, 50 s) ends before
        // it and backfills at once; 4 (a, 2 CPUs, 200 s) would delay it and waits; 5 is wider than the machine.
        // (Had 4 been b's, b — using nothing at 52 — would come first in fair-share order and start it then.)
        let jobs = [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100, processors: 2),
            ReplayJob(jobNumber: 2, group: "a", submitTime: 1, runTime: 10, processors: 4),
            ReplayJob(jobNumber: 3, group: "b", submitTime: 2, runTime: 50, processors: 2),
            ReplayJob(jobNumber: 4, group: "a", submitTime: 3, runTime: 200, processors: 2),
            ReplayJob(jobNumber: 5, group: "b", submitTime: 4, runTime: 10, processors: 5),
        ]
        var ideal = IdealLayout(
            jobs: jobs, groups: [PoolGroup(name: "a", share: 50), PoolGroup(name: "b", share: 50)], window: nil,
            cpus: 4)
        ideal.runToCompletion()
        let outcomes = ideal.outcomes
        #expect(outcomes.map(\.start) == [0, 100, 2, 110, nil])
        #expect(outcomes.map(\.neverRuns) == [false, false, false, false, true])
    }

    @Test func theIdealMachineAndTheReplayBatchReserveAlike() throws {
        // Four CPUs, one group. 1 and 2 (1 CPU, 100 s) and 3 (1 CPU, 300 s) run; 4 (2 CPUs) waits for 100, when 1
        // and 2 end together and leave 3 CPUs: one spare beyond its reservation, where 5 (1 CPU, 500 s, ends after
        // 100) backfills at once. The ideal counted only the first of the jobs ending at the reservation (no
        // spare CPU: 5 waited until 100), the replay batch (static partitions, the pool) all of them: the three
        // layouts now run the same EASY backfill (KTH-SP2 `267d16h`: ideal 2h11m where the pool's batch gave 2h10m).
        let jobs = [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100),
            ReplayJob(jobNumber: 2, group: "a", submitTime: 0, runTime: 100),
            ReplayJob(jobNumber: 3, group: "a", submitTime: 0, runTime: 300),
            ReplayJob(jobNumber: 4, group: "a", submitTime: 1, runTime: 100, processors: 2),
            ReplayJob(jobNumber: 5, group: "a", submitTime: 2, runTime: 500),
        ]
        let group = PoolGroup(name: "a", share: 100)
        var ideal = IdealLayout(jobs: jobs, groups: [group], window: nil, cpus: 4)
        ideal.runToCompletion()
        #expect(ideal.outcomes.map(\.start) == [0, 0, 0, 100, 2])
        let batch = try StaticLayout.run(jobs: jobs, groups: [group], window: nil, totalCPUs: 4)
        #expect(batch.records().map(\.start) == ideal.outcomes.map(\.start))
    }

    /// One host of 4 vCPUs, VMs of 1 vCPU; boot 60 s; planner every 60 s.
    var configuration: PoolSimulation.Configuration {
        PoolSimulation.Configuration(
            hosts: 1, cpusPerHost: 4, bootDelay: 60, tick: 60,
            policy: PolicyConfiguration(
                maxBootingSiteWide: 4, maxBootingPerHost: 4, minLifetime: 600, idleTimeout: 300,
                starvationGrace: PoolSimulation.preemptionOff))
    }

    @Test func aJobTooWideForItsPartitionCountsInEveryLayout() throws {
        // a's 3-CPU job never fits a's 2-CPU partition: the static layout used to leave it out of its mean.
        let jobs = [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100, processors: 3),
            ReplayJob(jobNumber: 2, group: "b", submitTime: 0, runTime: 10),
        ]
        let groups = [PoolGroup(name: "a", share: 50), PoolGroup(name: "b", share: 50)]
        let c = try Comparison(jobs: jobs, groups: groups, window: nil, configuration: configuration, limit: 86_400)
        #expect(c.dynamicFinished)
        // The pool's 3 VMs join at 60, the job ends at 160, seen finished at the next planner step (180).
        #expect(c.horizon == 180)
        #expect(c.staticLayout[group: "a"]?.pending == 1)
        #expect(c.staticLayout[group: "a"]?.neverRuns == 1)
        #expect(c.staticLayout[group: "a"]?.meanWait == 180)  // its wait so far, at the common horizon
        #expect(c.staticLayout.total.jobs == 2)
        #expect(c.dynamic[group: "a"]?.meanWait == 60)
        #expect(c.dynamic.total.neverRuns == 0)
        #expect(c.ideal?[group: "a"]?.meanWait == 0)
        #expect(c.ideal?.total.meanWait == 0)
        // b never waits in its partition: the pool owes it the same, plus a planner step and a boot (120 s).
        let b = try #require(c.guarantee.first { $0.group == "b" })
        #expect(b.jobs == 1 && b.allowance == 120 && b.poolMeanWait == 60 && b.staticMeanWait == 0 && b.holds)
        #expect(c.guarantee.first { $0.group == "a" }?.withinShare == false)
        #expect(!GuaranteeCheck(group: "x", jobs: 1, poolMeanWait: 121, staticMeanWait: 0, allowance: 120)
            .holds)
    }

    @Test func aPoolWithOnlyJobsItCanNeverRunIsFinished() throws {
        let jobs = [ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 100, processors: 5)]
        var sim = try PoolSimulation(jobs: jobs, groups: [PoolGroup(name: "a", share: 1)], configuration: configuration)
        #expect(try sim.runToCompletion(limit: 30 * 86_400))
        #expect(sim.now < 3600)
        #expect(sim.capacityCPUs == ["a": 4])
    }

    @Test func jobsWithinShareAreThoseTheirPartitionStartsAtOnce() {
        // A partition of 2 CPUs: 1 at 0 (ends 100) and 2 at 10 fit; 3 at 20 makes 3 CPUs of demand; 4 at 150
        // comes after 1 and 2 ended (but 3, started at 100, still runs until 300) and fits beside it.
        let o = [
            JobOutcome(group: "a", processors: 1, submit: 0, runTime: 100, start: 0, end: 100),
            JobOutcome(group: "a", processors: 1, submit: 10, runTime: 90, start: 10, end: 100),
            JobOutcome(group: "a", processors: 1, submit: 20, runTime: 200, start: 100, end: 300),
            JobOutcome(group: "a", processors: 1, submit: 150, runTime: 10, start: 150, end: 160),
            JobOutcome(group: "b", processors: 4, submit: 0, runTime: 10),
        ]
        #expect(GuaranteeCheck.withinShare(o, partition: ["a": 2, "b": 2]) == [true, true, false, true, false])
        var pool = o
        pool[0].start = 200  // the pool kept job 1 waiting 200 s: the mean of a's 3 jobs within share is 66.7 s
        let checks = GuaranteeCheck.checks(
            groups: ["a", "b"], fixed: o, pool: pool, partition: ["a": 2, "b": 2], horizon: 1000, allowance: 60)
        #expect(checks.map(\.jobs) == [3, 0])
        #expect(checks[0].staticMeanWait == 0 && !checks[0].holds)
        #expect(checks[1].holds)
    }

    @Test func aJobIsOwedAStartOnlyWhileItsGroupsDemandInThePoolIsWithinShare() {
        // a's partition has 2 CPUs. Job 1 (2 CPUs) runs 0–100 there; job 2 (1 CPU, at 150) starts at once. In the
        // pool job 1 was preempted and requeued, ran again 120–220: at 150 a's demand there is 3 CPUs, above its
        // share, so job 2 (waiting until 220) is not owed a start; job 1 is, and waited 120 s.
        let fixed = [
            JobOutcome(group: "a", processors: 2, submit: 0, runTime: 100, start: 0, end: 100),
            JobOutcome(group: "a", processors: 1, submit: 150, runTime: 10, start: 150, end: 160),
        ]
        let pool = [
            JobOutcome(group: "a", processors: 1, submit: 150, runTime: 10, start: 220, end: 230),
            JobOutcome(group: "a", processors: 2, submit: 0, runTime: 100, start: 120, end: 220),
        ]  // in another order: matched by job, not by position
        #expect(GuaranteeCheck.withinShare(pool, partition: ["a": 2]) == [false, true])
        let check = GuaranteeCheck.checks(
            groups: ["a"], fixed: fixed, pool: pool, partition: ["a": 2], horizon: 1000, allowance: 120)[0]
        #expect(check.jobs == 1 && check.poolMeanWait == 120 && check.staticMeanWait == 0 && check.holds)
    }

    @Test func theAllowanceIsTheLeadTimePlusTheReclaimBound() {
        // Graceful reclaim waits for the borrowers' jobs: no bound, so nothing beyond a step and a boot.
        #expect(GuaranteeCheck.allowance(tick: 60, bootDelay: 60, grace: PoolSimulation.preemptionOff) == 120)
        // Preemption: the grace, a step to drain, a step to destroy, then a step and a boot for the new VM.
        #expect(GuaranteeCheck.allowance(tick: 60, bootDelay: 60, grace: 1800) == 2040)
    }

    @Test func theIdealMachineCalibratesTheGuarantee() throws {
        // b fills the 4 CPUs with long jobs at 0; a's job at 10 fits a's 2-CPU partition, which starts it at once.
        // One fair-share machine without preemption starts it only when a b job ends (1000): it breaks the
        // promise, so the promise needs the pool to take room back sooner than jobs end.
        let jobs =
            (1...4).map { ReplayJob(jobNumber: $0, group: "b", submitTime: 0, runTime: 1000) }
            + [ReplayJob(jobNumber: 5, group: "a", submitTime: 10, runTime: 10)]
        let groups = [PoolGroup(name: "a", share: 50), PoolGroup(name: "b", share: 50)]
        let c = try Comparison(jobs: jobs, groups: groups, window: nil, configuration: configuration, limit: 86_400)
        let a = try #require(c.idealGuarantee.first { $0.group == "a" })
        #expect(a.jobs == 1 && a.allowance == 0 && a.poolMeanWait == 990 && !a.holds)
        #expect(c.idealGuarantee.first { $0.group == "b" }.map { $0.jobs == 2 && $0.holds } == true)
        #expect(Sweep(rows: [Sweep.Row(window: ReplayWindow(start: 0, duration: 100), comparison: c)])
            .idealGuaranteeHeld == 0)
    }

    @Test func sweepWindowsSpreadOverTheTrace() {
        let jobs = [0, 5 * 86_400, 10 * 86_400].map { ReplayJob(jobNumber: $0, group: "a", submitTime: $0, runTime: 1) }
        let windows = Sweep.windows(jobs: jobs, count: 3, duration: 7 * 86_400)
        #expect(windows.map(\.start) == [0, 129_600, 259_200])
        #expect(windows.allSatisfy { $0.duration == 7 * 86_400 })
        #expect(Sweep.windows(jobs: jobs, count: 3, duration: 20 * 86_400).map(\.start) == [0])
    }
}
