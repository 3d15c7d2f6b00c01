import Testing

@testable import VEMBatch

@Suite struct ReplayBatchTests {
    static func job(_ n: Int, _ group: String = "a", submit: Int, run: Int, procs: Int = 1) -> ReplayJob {
        ReplayJob(jobNumber: n, group: group, submitTime: submit, runTime: run, processors: procs)
    }

    @Test func wideJobsWaitOrAreRejected() throws {
        // Group a has 2 CPUs; J1 needs 3, J2 needs 1.
        let jobs = [Self.job(1, submit: 0, run: 10, procs: 3), Self.job(2, submit: 5, run: 10)]
        var waiting = try ReplayBatch(jobs: jobs, configuration: .init(wideJobs: .wait))
        try waiting.register(NodeRegistration(name: "a1", group: "a", cpus: 2))
        waiting.runToCompletion()
        // J1 can never fit on 2 CPUs, so it holds no reservation: J2 starts at once behind it.
        #expect(waiting.isFinished)
        #expect(waiting.records().map(\.status) == [.pending, .finished])
        #expect(waiting.statistics().total.pending == 1)
        // A node registered later lets it run.
        try waiting.register(NodeRegistration(name: "a2", group: "a", cpus: 1))
        #expect(waiting.records()[0].status == .running && waiting.records()[0].start == 15)

        var rejecting = try ReplayBatch(jobs: jobs, configuration: .init(wideJobs: .reject))
        try rejecting.register(NodeRegistration(name: "a1", group: "a", cpus: 2))
        rejecting.runToCompletion()
        #expect(rejecting.records().map(\.status) == [.rejected, .finished])
        #expect(rejecting.statistics()[group: "a"]?.rejected == 1)
    }

    @Test func resumeLetsADrainedNodeTakeJobsAgain() throws {
        var batch = try ReplayBatch(jobs: [Self.job(1, submit: 0, run: 10), Self.job(2, submit: 20, run: 10)])
        try batch.register(NodeRegistration(name: "a1", group: "a", cpus: 1))
        batch.advance(to: 0)  // J1 starts on a1
        try batch.drain(node: "a1", reason: "test")
        #expect(batch.state(of: "a1") == .draining)
        try batch.drain(node: "a1", reason: "again")  // no-op
        batch.advance(to: 15)
        #expect(batch.state(of: "a1") == .drained)
        #expect(batch.records()[0].status == .finished)
        batch.advance(to: 25)
        #expect(batch.records()[1].status == .pending)
        try batch.resume(node: "a1")
        try batch.resume(node: "a1")  // no-op
        #expect(batch.records()[1].start == 25)
        #expect(batch.invariantViolations().isEmpty)
    }

    /// The code of the `BatchError` thrown by `body`, or `nil` when it throws nothing (or something else).
    static func errorCode(_ body: () throws -> Void) -> BatchError.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? BatchError)?.code
        }
    }

    @Test func nodeOperationErrors() throws {
        var batch = try ReplayBatch(jobs: [])
        try batch.register(NodeRegistration(name: "n1", group: "a", cpus: 1))
        let n1b = NodeRegistration(name: "n1", group: "b", cpus: 1)
        #expect(Self.errorCode { try batch.register(n1b) } == .duplicateNode)
        let noCPU = NodeRegistration(name: "n2", group: "a", cpus: 0)
        let noName = NodeRegistration(name: "", group: "a", cpus: 1)
        #expect(Self.errorCode { try batch.register(noCPU) } == .invalidArgument)
        #expect(Self.errorCode { try batch.register(noName) } == .invalidArgument)
        #expect(Self.errorCode { try batch.drain(node: "nope", reason: "") } == .unknownNode)
        #expect(Self.errorCode { try batch.resume(node: "nope") } == .unknownNode)
        #expect(Self.errorCode { try batch.remove(node: "nope") } == .unknownNode)
        // An idle node may be removed without draining, and its name registered again.
        try batch.remove(node: "n1")
        try batch.register(NodeRegistration(name: "n1", group: "b", cpus: 2))
        #expect(batch.snapshot()[group: "b"]?.nodes.map(\.cpus) == [2])
        #expect(batch.snapshot()[group: "a"]?.nodes.isEmpty == true)
        let zeroProcs = [Self.job(1, submit: 0, run: 1, procs: 0)]
        #expect(Self.errorCode { _ = try ReplayBatch(jobs: zeroProcs) } == .invalidArgument)
        let stopped = ReplayBatch.Configuration(compression: 0)
        #expect(Self.errorCode { _ = try ReplayBatch(jobs: [], configuration: stopped) } == .invalidArgument)
    }

    @Test func conformsToTheBatchSystemProtocol() async throws {
        func exercise(_ system: inout some BatchSystem) async throws -> BatchSnapshot {
            try await system.register(NodeRegistration(name: "v1", group: "atlas", cpus: 4, memoryMB: 8192))
            try await system.drain(node: "v1", reason: "surplus")
            try await system.resume(node: "v1")
            return try await system.snapshot()
        }
        var batch = try ReplayBatch(jobs: [Self.job(1, "atlas", submit: 0, run: 10, procs: 2)])
        let snapshot = try await exercise(&batch)
        let atlas = try #require(snapshot[group: "atlas"])
        #expect(atlas.nodes == [BatchNode(name: "v1", group: "atlas", cpus: 4, memoryMB: 8192, state: .idle)])
        #expect(atlas.pendingJobs == 0 && atlas.runningJobs == 0)  // the job is not submitted yet at time 0
        batch.advance(to: 0)
        #expect(batch.snapshot()[group: "atlas"]?.nodes.first?.state == .mixed)
    }

    @Test func steppingGivesTheSameResultAsRunningToCompletion() throws {
        var jobs: [ReplayJob] = []
        var x: UInt64 = 7
        for n in 1...300 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let g = ["a", "b", "c"][Int(x >> 60) % 3]
            jobs.append(
                ReplayJob(
                    jobNumber: n, group: g, submitTime: n * 7, runTime: Int(x >> 40) % 500,
                    estimatedTime: Int(x >> 40) % 500 + Int(x >> 20) % 300, processors: 1 + Int(x >> 33) % 4
                ))
        }
        let nodes = ReplayBatch.staticPartitions(groups: ["a", "b", "c"], nodesPerGroup: 2, cpusPerNode: 3)
        var fast = try ReplayBatch(jobs: jobs)
        try fast.register(nodes)
        fast.runToCompletion()
        var stepped = try ReplayBatch(jobs: jobs)
        try stepped.register(nodes)
        var t = stepped.origin
        while !stepped.isFinished {
            t += 13
            stepped.advance(to: t)
            #expect(stepped.invariantViolations().isEmpty)
        }
        #expect(fast.records() == stepped.records())
        #expect(fast.records().allSatisfy { $0.status == .finished })
    }

    @Test func windowAndCompression() throws {
        let jobs = (0..<10).map { Self.job($0, submit: $0 * 10, run: 5) }
        let batch = try ReplayBatch(
            jobs: jobs, configuration: .init(window: ReplayWindow(start: 20, duration: 30), compression: 60))
        // Submissions in [20, 50): jobs 2, 3, 4.
        #expect(batch.records().map(\.jobNumber) == [2, 3, 4])
        #expect(batch.origin == 20 && batch.now == 20)
        // 2.5 s of wall time at ×60 is 150 simulated seconds.
        #expect(batch.simulatedTime(afterWallSeconds: 2.5) == 170)
        #expect(batch.wallSeconds(untilSimulated: 80) == 1)
    }

    @Test func replayJobsFromSWFRecords() throws {
        // Requested processors -1: the allocated ones are used; requested time -1: the run time is the estimate.
        let lcg = SWFJob(jobNumber: 1, submitTime: 5, runTime: 135, allocatedProcessors: 1, requestedTime: -1)
        #expect(ReplayJob(lcg, group: "g") == ReplayJob(jobNumber: 1, group: "g", submitTime: 5, runTime: 135))
        // 3 processors × 1,500 KiB requested = 4,500 KiB → 5 MiB (rounded up); estimate = requested time.
        let sp2 = SWFJob(
            jobNumber: 2, submitTime: 7, runTime: 100, allocatedProcessors: 4, requestedProcessors: 3,
            requestedTime: 600, requestedMemory: 1500)
        let job = try #require(ReplayJob(sp2, group: "g"))
        #expect(job.processors == 3 && job.estimatedTime == 600 && job.memoryMB == 5)
        #expect(ReplayJob(SWFJob(jobNumber: 3, submitTime: 0, runTime: -1, allocatedProcessors: 1), group: "g") == nil)
        #expect(ReplayJob(SWFJob(jobNumber: 4, submitTime: 0, runTime: 10), group: "g") == nil)

        // Demand counts the waiting job's CPUs and memory.
        var batch = try ReplayBatch(jobs: [job])
        batch.advance(to: 7)
        let demand = try #require(batch.snapshot()[group: "g"])
        #expect(demand.pendingJobs == 1 && demand.pendingCPUs == 3 && demand.pendingMemoryMB == 5)
        #expect(demand.nodes.isEmpty && demand.usableCPUs == 0)
    }

    @Test func aTraceWindowReplaysOnlyItsSubmissions() throws {
        let text = (1...6).map { "\($0) \($0 * 100) -1 50 1 -1 -1 1 60 -1 1 1 \($0 % 2) -1 -1 -1 -1 -1" }
            .joined(separator: "\n")
        let trace = SWFReader.parse(text: text)
        // Trace group = job number mod 2; equal CPU time, so the tie goes to the smaller id: 0 ("even") first.
        let map = try TraceGroupMap(jobs: trace.jobs, rule: TraceGroupRule(topGroups: 2, names: ["even", "odd"]))
        #expect(map.group(of: trace.jobs[1]) == "even" && map.group(of: trace.jobs[0]) == "odd")
        let window = ReplayWindow(start: 200, duration: 300)
        var batch = try ReplayBatch(trace: trace, map: map, configuration: .init(window: window))
        #expect(batch.records().map(\.jobNumber) == [2, 3, 4])
        #expect(batch.skippedJobs == 0 && batch.groupNames == ["even", "odd"])
        try batch.register(ReplayBatch.staticPartitions(groups: ["odd", "even"], nodesPerGroup: 1, cpusPerNode: 1))
        batch.runToCompletion()
        #expect(batch.records().map(\.wait) == [0, 0, 0])
        #expect(batch.now == 450)
    }

    @Test func staticPartitionNames() {
        let nodes = ReplayBatch.staticPartitions(
            groups: ["atlas", "cms"], nodesPerGroup: 10, cpusPerNode: 8, memoryMB: 16_384)
        #expect(nodes.count == 20)
        #expect(nodes.first == NodeRegistration(name: "atlas-01", group: "atlas", cpus: 8, memoryMB: 16_384))
        #expect(nodes.last?.name == "cms-10")
    }

    @Test func groupMappingValidation() throws {
        try GroupMapping.validate([
            GroupMapping(group: "atlas", partition: "grid", feature: "atlas"),
            GroupMapping(group: "cms", partition: "grid", feature: "cms"), .identity("other"),
        ])
        #expect(Self.errorCode { try GroupMapping.validate([.identity("a"), .identity("a")]) } == .invalidMapping)
        #expect(throws: BatchError.self) {
            try GroupMapping.validate([GroupMapping(group: "a", account: "x"), GroupMapping(group: "b", account: "x")])
        }
    }
}
