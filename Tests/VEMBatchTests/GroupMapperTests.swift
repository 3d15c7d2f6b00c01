import Testing

@testable import VEMBatch

@Suite struct GroupMapperTests {
    // CPU time per group: g7 = 100 × 2 + 50 × 1 = 250; g3 = 300 × 1 = 300; g9 = 10 × 4 = 40; g-1 = 20;
    // g5 = 0 (unknown run time). Ranking: g3 (300), g7 (250), g9 (40), g-1 (20), g5 (0). Total 610.
    static let jobs = [
        SWFJob(jobNumber: 1, submitTime: 0, runTime: 100, allocatedProcessors: 2, groupID: 7),
        SWFJob(jobNumber: 2, submitTime: 1, runTime: 50, requestedProcessors: 1, groupID: 7),
        SWFJob(jobNumber: 3, submitTime: 2, runTime: 300, allocatedProcessors: 1, groupID: 3),
        SWFJob(jobNumber: 4, submitTime: 3, runTime: 10, allocatedProcessors: 1, requestedProcessors: 4, groupID: 9),
        SWFJob(jobNumber: 5, submitTime: 4, runTime: 20, allocatedProcessors: 1, groupID: -1),
        SWFJob(jobNumber: 6, submitTime: 5, runTime: -1, allocatedProcessors: 1, groupID: 5),
    ]

    @Test func jobsCanBeGroupedByUserQueueOrPartition() throws {
        // A trace without group ids: users 4 (300 CPU-s) and 8 (200); queue and partition the other way round.
        let jobs = [
            SWFJob(jobNumber: 1, submitTime: 0, runTime: 300, allocatedProcessors: 1, userID: 4, queueID: 2),
            SWFJob(jobNumber: 2, submitTime: 1, runTime: 200, allocatedProcessors: 1, userID: 8, partitionID: 5),
        ]
        let byUser = try TraceGroupMap(jobs: jobs, rule: TraceGroupRule(topGroups: 1, key: .user))
        #expect(byUser.groups.map(\.name) == ["u4", "other"])
        #expect(byUser.group(of: jobs[1]) == "other")
        let byQueue = try TraceGroupMap(jobs: jobs, rule: TraceGroupRule(topGroups: 2, key: .queue))
        #expect(byQueue.groups.map(\.name) == ["q2", "unknown"])
        let byPartition = try TraceGroupMap(jobs: jobs, rule: TraceGroupRule(topGroups: 2, key: .partition))
        #expect(byPartition.group(of: jobs[0]) == "unknown")
        #expect(byPartition.group(of: jobs[1]) == "p5")
    }

    @Test func topGroupsByCPUTimeAndTheRestInOther() throws {
        let map = try TraceGroupMap(jobs: Self.jobs, rule: TraceGroupRule(topGroups: 2, names: ["atlas"]))
        #expect(map.ranking.map(\.groupID) == [3, 7, 9, -1, 5])
        #expect(map.ranking.map(\.cpuSeconds) == [300, 250, 40, 20, 0])
        #expect(map.groups.map(\.name) == ["atlas", "g7", "other"])
        #expect(map.groups.map(\.traceGroups) == [[3], [7], [-1, 5, 9]])
        #expect(map.groups.map(\.jobs) == [1, 2, 3])
        #expect(map.groups.map(\.cpuSeconds) == [300, 250, 60])
        #expect(abs(map.groups[0].share - 300.0 / 610) < 1e-12)
        #expect(map.group(of: Self.jobs[0]) == "g7")
        #expect(map.group(of: Self.jobs[4]) == "other")
        #expect(map.droppedJobs == 0)
    }

    @Test func theRestMayBeDropped() throws {
        let map = try TraceGroupMap(jobs: Self.jobs, rule: TraceGroupRule(topGroups: 1, otherGroup: nil))
        #expect(map.groups.map(\.name) == ["g3"])
        #expect(map.droppedJobs == 5)
        #expect(map.group(of: Self.jobs[0]) == nil)
        let trace = SWFTrace(name: "t", jobs: Self.jobs)
        let batch = try ReplayBatch(trace: trace, map: map)
        #expect(batch.records().map(\.jobNumber) == [3])
        #expect(batch.skippedJobs == 5)
    }

    @Test func allGroupsNamedAndUnknownGroup() throws {
        let map = try TraceGroupMap(jobs: Self.jobs, rule: TraceGroupRule(topGroups: 10))
        #expect(map.groups.map(\.name) == ["g3", "g7", "g9", "unknown", "g5"])
        // The job with an unknown run time is mapped but cannot be replayed.
        let batch = try ReplayBatch(trace: SWFTrace(name: "t", jobs: Self.jobs), map: map)
        #expect(batch.skippedJobs == 1)
        #expect(batch.records().count == 5)
    }

    @Test func conflictingNamesAreRejected() {
        #expect(throws: BatchError.self) {
            try TraceGroupMap(jobs: Self.jobs, rule: TraceGroupRule(topGroups: 2, names: ["x", "x"]))
        }
        #expect(throws: BatchError.self) {
            try TraceGroupMap(jobs: Self.jobs, rule: TraceGroupRule(topGroups: 2, names: ["other"]))
        }
        #expect(throws: BatchError.self) {
            try TraceGroupMap(jobs: Self.jobs, rule: TraceGroupRule(topGroups: 2, names: ["g7"]))
        }
        #expect(throws: BatchError.self) { try TraceGroupMap(jobs: Self.jobs, rule: TraceGroupRule(topGroups: -1)) }
    }
}
