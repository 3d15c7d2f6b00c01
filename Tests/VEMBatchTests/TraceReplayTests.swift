import Testing

@testable import VEMBatch

/// Replays of the real KTH-SP2 trace (28,476 jobs, of which 28,475 replayable; 100 one-CPU nodes) checking
/// invariants.
/// The trace is read from `../shared/traces` beside the package root; a missing trace fails the test.
@Suite struct TraceReplayTests {
    static var kthPath: String {
        // #filePath = <root>/Tests/VEMBatchTests/TraceReplayTests.swift
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/../shared/traces/KTH-SP2-1996-2.1-cln.swf.gz"
    }

    /// Read once, shared by the tests of the suite.
    static let kth = Result { try SWFReader.read(path: kthPath, name: "KTH-SP2-1996-2.1-cln.swf.gz") }

    static func loadKTH() throws -> SWFTrace { try kth.get() }

    @Test func kthParsesCompletely() throws {
        let trace = try Self.loadKTH()
        #expect(trace.jobs.count == 28_476)
        #expect(trace.badLineCount == 0)
        #expect(trace.header.maxProcs == 100 && trace.header.unixStartTime == 843_480_031)
        // One job (27313) has neither requested nor allocated processors: it cannot be replayed.
        #expect(trace.jobs.filter { $0.processors == nil }.map(\.jobNumber) == [27313])
        #expect(trace.jobs.allSatisfy { ($0.processors ?? 1) >= 1 && ($0.processors ?? 1) <= 100 })
    }

    @Test func kthOnItsOwnHundredNodesKeepsEveryInvariant() throws {
        let trace = try Self.loadKTH()
        // One group ("kth") holding every job, on 100 nodes of 1 CPU: the real machine.
        let map = try TraceGroupMap(jobs: trace.jobs, rule: TraceGroupRule(topGroups: 0, otherGroup: "kth"))
        var batch = try ReplayBatch(trace: trace, map: map)
        #expect(batch.skippedJobs == 1)  // job 27313, processors unknown
        try batch.register(ReplayBatch.staticPartitions(groups: ["kth"], nodesPerGroup: 100, cpusPerNode: 1))
        // Step event by event, checking capacity and bookkeeping after every instant.
        var steps = 0
        var violations: [String] = []
        while let t = batch.nextEventTime {
            batch.advance(to: t)
            steps += 1
            if violations.isEmpty { violations = batch.invariantViolations() }
        }
        #expect(violations.isEmpty, "\(violations.prefix(3))")
        #expect(steps > 1000)

        let records = batch.records()
        #expect(records.count == 28_475)
        #expect(records.allSatisfy { $0.status == .finished }, "every job finishes")
        #expect(records.allSatisfy { ($0.start ?? -1) >= $0.submit }, "every job starts after its submission")
        let runTimes = Dictionary(uniqueKeysWithValues: trace.jobs.map { ($0.jobNumber, $0.runTime) })
        #expect(records.allSatisfy { $0.end == ($0.start ?? 0) + (runTimes[$0.jobNumber] ?? -1) })
        // Independent check from the records: at no instant do running jobs hold more than 100 CPUs.
        #expect(Self.peakConcurrentCPUs(records) <= 100)

        let stats = batch.statistics()
        #expect(stats.total.finished == 28_475)
        #expect(stats.total.utilisation > 0.5 && stats.total.utilisation <= 1)
    }

    @Test func kthInStaticPartitionsRejectsOnlyTooWideJobs() throws {
        let trace = try Self.loadKTH()
        let map = try TraceGroupMap(jobs: trace.jobs, rule: TraceGroupRule(topGroups: 4))
        var batch = try ReplayBatch(trace: trace, map: map, configuration: .init(wideJobs: .reject))
        let groups = map.groups.map(\.name)
        try batch.register(ReplayBatch.staticPartitions(groups: groups, nodesPerGroup: 20, cpusPerNode: 1))
        batch.runToCompletion()
        #expect(batch.invariantViolations().isEmpty)
        let records = batch.records()
        #expect(records.allSatisfy { $0.status == .finished || ($0.status == .rejected && $0.processors > 20) })
        #expect(
            records.filter { $0.status == .rejected }.count == trace.jobs.filter { ($0.processors ?? 0) > 20 }.count)
        #expect(records.contains { $0.status == .rejected })
        for group in groups {
            #expect(Self.peakConcurrentCPUs(records.filter { $0.group == group }) <= 20, "group \(group)")
        }
        #expect(batch.statistics().groups.map(\.group) == groups.sorted())
    }

    /// The largest number of CPUs held at once, by a sweep over start (+) and end (−) events; at equal
    /// times ends come first, as in the replay.
    static func peakConcurrentCPUs(_ records: [JobRecord]) -> Int {
        var events: [(time: Int, delta: Int)] = []
        for r in records {
            guard let s = r.start else { continue }
            events.append((s, r.processors))
            if let e = r.end { events.append((e, -r.processors)) }
        }
        events.sort { $0.time != $1.time ? $0.time < $1.time : $0.delta < $1.delta }
        var current = 0
        var peak = 0
        for e in events {
            current += e.delta
            peak = max(peak, current)
        }
        return peak
    }
}
