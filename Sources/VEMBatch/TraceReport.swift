import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// What `vem trace-info` prints about an SWF trace: its jobs, span and groups, how they map onto VEM groups, and
/// (optionally) how it replays on static partitions.
public enum TraceInfo {
    /// Reads the trace at `path`, maps its groups by `rule`, and replays it on `replayStatic` static nodes per group
    /// of `cpusPerNode` CPUs when given.
    /// - Returns: The report as text, or as one JSON object when `json`.
    /// - Throws: ``BatchError`` when the trace cannot be read or mapped.
    public static func report(
        path: String, rule: TraceGroupRule, replayStatic: Int?, cpusPerNode: Int, wideJobs: WideJobPolicy, json: Bool
    ) throws -> String {
        let clock = ContinuousClock()
        let loadStart = clock.now
        let trace = try SWFReader.read(path: path, name: lastPathComponent(path))
        let loadTime = clock.now - loadStart
        let map = try TraceGroupMap(jobs: trace.jobs, rule: rule)
        var report = Report(trace: trace, map: map, loadSeconds: loadTime.seconds)
        if let n = replayStatic {
            report.replay = try replay(trace: trace, map: map, nodesPerGroup: n, cpusPerNode: cpusPerNode, wideJobs: wideJobs)
        }
        guard json else { return report.text(trace: trace, map: map) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    private static func replay(
        trace: SWFTrace, map: TraceGroupMap, nodesPerGroup n: Int, cpusPerNode: Int, wideJobs policy: WideJobPolicy
    ) throws -> ReplayReport {
        let clock = ContinuousClock()
        let start = clock.now
        var batch = try ReplayBatch(trace: trace, map: map, configuration: .init(wideJobs: policy))
        try batch.register(
            ReplayBatch.staticPartitions(groups: map.groups.map(\.name), nodesPerGroup: n, cpusPerNode: cpusPerNode))
        batch.runToCompletion()
        let elapsed = clock.now - start
        let stats = batch.statistics()
        return ReplayReport(
            nodesPerGroup: n, cpusPerNode: cpusPerNode, wideJobs: policy.rawValue, skippedJobs: batch.skippedJobs,
            wallSeconds: elapsed.seconds, simulatedSeconds: batch.now - batch.origin,
            groups: stats.groups.map(GroupLine.init), total: GroupLine(stats.total)
        )
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

// MARK: - Report

private struct Report: Encodable {
    var file: String
    var jobs: Int
    var lines: Int
    var badLines: Int
    var badLineSamples: [String]
    var firstSubmit: Int?
    var lastEnd: Int?
    var maxProcs: Int?
    var unixStartTime: Int?
    var loadSeconds: Double
    var traceGroups: [TraceGroupShare]
    var rule: TraceGroupRule
    var mapping: [MappedGroup]
    var droppedJobs: Int
    var replay: ReplayReport?

    init(trace: SWFTrace, map: TraceGroupMap, loadSeconds: Double) {
        file = trace.name
        jobs = trace.jobs.count
        lines = trace.lineCount
        badLines = trace.badLineCount
        badLineSamples = trace.diagnostics.prefix(5).map(\.description)
        firstSubmit = trace.span?.start
        lastEnd = trace.span?.end
        maxProcs = trace.header.maxProcs
        unixStartTime = trace.header.unixStartTime
        self.loadSeconds = loadSeconds
        traceGroups = map.ranking
        rule = map.rule
        mapping = map.groups
        droppedJobs = map.droppedJobs
    }

    func text(trace: SWFTrace, map: TraceGroupMap) -> String {
        var out = "trace       \(file)\n"
        out += "jobs        \(jobs) in \(lines) lines, \(badLines) bad line(s) skipped\n"
        for d in badLineSamples { out += "            \(d)\n" }
        if let s = firstSubmit, let e = lastEnd {
            out += "span        \(s) → \(e) s (\(duration(e - s)), first submit → last end)\n"
        }
        out += "max procs   \(maxProcs.map(String.init) ?? "unknown") (header)\n"
        out += "loaded in   \(cFormat("%.3f", loadSeconds)) s\n"
        out += "\ntrace groups by CPU time (\(traceGroups.count)):\n"
        out += pad("group", 10) + pad("jobs", 10) + pad("cpu-hours", 14) + "share\n"
        for g in traceGroups {
            out +=
                pad(String(g.groupID), 10) + pad(String(g.jobs), 10)
                + pad(cFormat("%.1f", Double(g.cpuSeconds) / 3600), 14)
                + cFormat("%6.2f %%", g.share * 100) + "\n"
        }
        let otherText = rule.otherGroup.map { "the rest → '\($0)'" } ?? "the rest dropped (\(droppedJobs) jobs)"
        out += "\nmapping --groups \(rule.topGroups): top \(rule.topGroups) by CPU time, \(otherText):\n"
        for g in mapping {
            let ids =
                g.traceGroups.count > 8
                ? g.traceGroups.prefix(8).map(String.init).joined(separator: ",") + ",… (\(g.traceGroups.count))"
                : g.traceGroups.map(String.init).joined(separator: ",")
            out +=
                pad(g.name, 12) + pad(String(g.jobs), 10) + cFormat("%6.2f %%  ", g.share * 100) + "← \(ids)\n"
        }
        if let r = replay { out += r.text() }
        return out
    }
}

private struct ReplayReport: Encodable {
    var nodesPerGroup: Int
    var cpusPerNode: Int
    var wideJobs: String
    var skippedJobs: Int
    var wallSeconds: Double
    var simulatedSeconds: Int
    var groups: [GroupLine]
    var total: GroupLine

    func text() -> String {
        var out = "\nreplay: static partitions, \(nodesPerGroup) node(s) × \(cpusPerNode) CPU(s) per group, "
        out += "FCFS + EASY backfill, wide jobs: \(wideJobs)\n"
        out +=
            pad("group", 12) + pad("jobs", 9) + pad("finished", 10) + pad("rejected", 10) + pad("pending", 9)
            + pad("mean wait", 12) + pad("p95 wait", 12) + pad("cpu-hours", 12) + "util\n"
        for g in groups + [total] {
            out +=
                pad(g.group, 12) + pad(String(g.submitted), 9) + pad(String(g.finished), 10)
                + pad(String(g.rejected), 10) + pad(String(g.pending), 9)
                + pad(duration(Int(g.meanWait)), 12) + pad(duration(g.p95Wait), 12)
                + pad(cFormat("%.1f", Double(g.cpuSecondsUsed) / 3600), 12)
                + cFormat("%5.1f %%", g.utilisation * 100) + "\n"
        }
        out += "skipped \(skippedJobs) unreplayable or dropped job(s); simulated \(duration(simulatedSeconds)) "
        out += "in \(cFormat("%.3f", wallSeconds)) s of wall time\n"
        return out
    }
}

private struct GroupLine: Encodable {
    var group: String
    var submitted, started, finished, rejected, pending: Int
    var meanWait: Double
    var p95Wait, maxWait, cpuSecondsUsed, cpuSecondsOffered: Int
    var utilisation: Double

    init(_ s: GroupStatistics) {
        group = s.group
        submitted = s.submitted
        started = s.started
        finished = s.finished
        rejected = s.rejected
        pending = s.pending
        meanWait = s.meanWait
        p95Wait = s.p95Wait
        maxWait = s.maxWait
        cpuSecondsUsed = s.cpuSecondsUsed
        cpuSecondsOffered = s.cpuSecondsOffered
        utilisation = s.utilisation
    }
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

/// `3d 4h`, `5h 12m`, `7m 3s`, `42s`.
private func duration(_ seconds: Int) -> String {
    let s = max(0, seconds)
    let d = s / 86_400
    let h = s % 86_400 / 3600
    let m = s % 3600 / 60
    let r = s % 60
    if d > 0 { return "\(d)d \(h)h" }
    if h > 0 { return "\(h)h \(m)m" }
    if m > 0 { return "\(m)m \(r)s" }
    return "\(r)s"
}
