import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

@Suite struct WorkloadAndViewTests {
    @Test func theSyntheticWorkloadIsDeterministicAndBurstsInTurn() {
        let a = Workload.synthetic(jobsPerBurst: 10)
        let b = Workload.synthetic(jobsPerBurst: 10)
        #expect(a == b)
        #expect(a.count == 60)
        #expect(a.filter { $0.group == "atlas" }.count == 20)
        // Each burst's submissions fall in its hour; run times are 30 to 90 minutes.
        #expect(a.prefix(10).allSatisfy { $0.group == "atlas" && (0..<3600).contains($0.submitTime) })
        #expect(a.dropFirst(10).prefix(10).allSatisfy { $0.group == "cms" && (7200..<10_800).contains($0.submitTime) })
        #expect(a.allSatisfy { (1800...5400).contains($0.runTime) })
        #expect(Workload.syntheticGroups().map(\.share) == [50, 30, 20])
    }

    @Test func aWorkloadFromATraceMapsGroupsAndSharesByCPUTime() throws {
        func job(_ n: Int, group: Int, run: Int) -> SWFJob {
            SWFJob(
                jobNumber: n, submitTime: n * 10, waitTime: -1, runTime: run, allocatedProcessors: 1,
                averageCPUTime: -1, usedMemory: -1, requestedProcessors: 1, requestedTime: -1, requestedMemory: -1,
                status: 1, userID: 1, groupID: group, executableID: -1, queueID: -1, partitionID: -1,
                precedingJob: -1, thinkTime: -1)
        }
        let trace = SWFTrace(
            name: "t",
            jobs: [
                job(1, group: 7, run: 300), job(2, group: 7, run: 300), job(3, group: 9, run: 200),
                job(4, group: 3, run: 200),
            ])
        let w = try Workload(trace: trace, rule: TraceGroupRule(topGroups: 1, names: ["big"]), sample: 1, vmCPUs: 2)
        #expect(w.groups.map(\.name) == ["big", "other"])
        #expect(w.groups.map(\.share) == [60, 40])
        #expect(w.groups.allSatisfy { $0.vmCPUs == 2 })
        #expect(w.jobs.map(\.group) == ["big", "big", "other", "other"])
        let sampled = try Workload(trace: trace, rule: TraceGroupRule(topGroups: 1), sample: 2)
        #expect(sampled.jobs.map(\.jobNumber) == [1, 3])
        #expect(sampled.skipped == 2)
        #expect(throws: PoolError.self) { try Workload(trace: trace, rule: TraceGroupRule(topGroups: 1), sample: 0) }
    }

    @Test func theViewCountsVMsByStageAndShowsTheQueue() throws {
        var r = try Reconciler(groups: [PoolGroup(name: "a", share: 3), PoolGroup(name: "b", share: 1)])
        let creates = r.apply(
            plan([
                Directive(.create(group: "a", host: "h"), reason: ""),
                Directive(.create(group: "a", host: "h"), reason: ""),
            ]), now: 0)
        _ = r.onSucceeded(creates[0].id, now: 0)
        let register = r.onClientJoined(creates[0].vm, now: 60)
        _ = r.onSucceeded(register[0].id, now: 60)
        let view = PoolView(
            reconciler: r,
            batch: BatchSnapshot(
                time: 60, groups: [GroupDemand(group: "a", pendingJobs: 2, pendingCPUs: 2, runningJobs: 1)]))
        #expect(view.time == 60)
        #expect(view.rows.map(\.group) == ["a", "b"])
        #expect(view.rows[0].sharePercent == 75)
        #expect(view.rows[0].pendingJobs == 2)
        #expect(view.rows[0].runningJobs == 1)
        #expect(view.rows[0].booting == 1)
        #expect(view.rows[0].active == 1)
        #expect(view.rows[1].booting + view.rows[1].active + view.rows[1].draining == 0)
    }
}
