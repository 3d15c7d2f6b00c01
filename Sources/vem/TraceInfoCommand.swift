import ArgumentParser
import Foundation
import VEMBatch

/// `vem trace-info FILE [--groups N] [--json] [--replay-static N]`: what is in an SWF trace, how its groups
/// would map onto VEM groups, and (optionally) how it replays on static partitions.
struct TraceInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace-info",
        abstract: "Summarise an SWF job trace and the VEM groups its groups would map to.",
        discussion: """
            Reads a Standard Workload Format trace (plain or .gz) and prints: the number of jobs and of bad \
            lines, the span (first submit to last end), the header's MaxProcs, the trace groups (field 13) by \
            share of CPU time, and the mapping --groups N produces.

            Mapping rule: groups are ranked by CPU time (run time x processors, summed over their jobs; ties \
            by smaller id). The N heaviest become VEM groups, named by --names in rank order, else g<id> \
            ('unknown' for id -1); all others go to the group 'other', or are dropped with --drop-other.

            --replay-static N replays the whole trace on static partitions (the paper's fig. 1): N nodes of \
            --cpus-per-node CPUs per VEM group, FCFS with EASY backfill, at full speed, and prints per-group \
            waits and utilisation with the wall time the replay took.
            """
    )

    @Argument(help: "The trace file (SWF, plain or gzip-compressed).")
    var file: String

    @Option(help: "How many of the heaviest trace groups get a VEM group of their own.")
    var groups: Int = 3

    @Option(help: "Comma-separated names for those groups, heaviest first (default g<id>).")
    var names: String?

    @Flag(help: "Drop the jobs of the other trace groups instead of gathering them in 'other'.")
    var dropOther = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Replay the trace on N static nodes per VEM group and report.", valueName: "N"))
    var replayStatic: Int?

    @Option(help: "CPUs of each static node (with --replay-static).")
    var cpusPerNode: Int = 1

    @Option(help: "Jobs wider than their partition: 'reject' (counted) or 'wait' (stay queued).")
    var wideJobs: String = "reject"

    func validate() throws {
        guard groups >= 0 else { throw ValidationError("--groups must be 0 or more") }
        guard cpusPerNode >= 1 else { throw ValidationError("--cpus-per-node must be at least 1") }
        if let n = replayStatic, n < 1 { throw ValidationError("--replay-static must be at least 1") }
        guard WideJobPolicy(rawValue: wideJobs) != nil else {
            throw ValidationError("--wide-jobs is 'reject' or 'wait'")
        }
    }

    func run() throws {
        let clock = ContinuousClock()
        let loadStart = clock.now
        let trace = try SWFReader.read(path: file, name: (file as NSString).lastPathComponent)
        let loadTime = clock.now - loadStart
        let rule = TraceGroupRule(
            topGroups: groups,
            names: names.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
            otherGroup: dropOther ? nil : "other"
        )
        let map = try TraceGroupMap(jobs: trace.jobs, rule: rule)
        var report = Report(trace: trace, map: map, loadSeconds: loadTime.seconds)
        if let n = replayStatic {
            report.replay = try replay(trace: trace, map: map, nodesPerGroup: n)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text(trace: trace, map: map), terminator: "")
        }
    }

    private func replay(trace: SWFTrace, map: TraceGroupMap, nodesPerGroup n: Int) throws -> ReplayReport {
        let clock = ContinuousClock()
        let start = clock.now
        let policy = WideJobPolicy(rawValue: wideJobs) ?? .reject
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
        out += "loaded in   \(String(format: "%.3f", loadSeconds)) s\n"
        out += "\ntrace groups by CPU time (\(traceGroups.count)):\n"
        out += pad("group", 10) + pad("jobs", 10) + pad("cpu-hours", 14) + "share\n"
        for g in traceGroups {
            out +=
                pad(String(g.groupID), 10) + pad(String(g.jobs), 10)
                + pad(String(format: "%.1f", Double(g.cpuSeconds) / 3600), 14)
                + String(format: "%6.2f %%", g.share * 100) + "\n"
        }
        let otherText = rule.otherGroup.map { "the rest → '\($0)'" } ?? "the rest dropped (\(droppedJobs) jobs)"
        out += "\nmapping --groups \(rule.topGroups): top \(rule.topGroups) by CPU time, \(otherText):\n"
        for g in mapping {
            let ids =
                g.traceGroups.count > 8
                ? g.traceGroups.prefix(8).map(String.init).joined(separator: ",") + ",… (\(g.traceGroups.count))"
                : g.traceGroups.map(String.init).joined(separator: ",")
            out +=
                pad(g.name, 12) + pad(String(g.jobs), 10) + String(format: "%6.2f %%  ", g.share * 100) + "← \(ids)\n"
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
                + pad(String(format: "%.1f", Double(g.cpuSecondsUsed) / 3600), 12)
                + String(format: "%5.1f %%", g.utilisation * 100) + "\n"
        }
        out += "skipped \(skippedJobs) unreplayable or dropped job(s); simulated \(duration(simulatedSeconds)) "
        out += "in \(String(format: "%.3f", wallSeconds)) s of wall time\n"
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
