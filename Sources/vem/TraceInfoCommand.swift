import ArgumentParser
import Foundation
import VEMBatch

/// `vem trace-info FILE [--groups N] [--json] [--replay-static N]`: ``VEMBatch/TraceInfo``.
struct TraceInfoCommand: ParsableCommand {
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
            """)

    @Argument(help: "The trace file (SWF, plain or gzip-compressed).") var file: String
    @Option(help: "How many of the heaviest trace groups get a VEM group of their own.") var groups: Int = 3
    @Option(help: "Comma-separated names for those groups, heaviest first (default g<id>).") var names: String?
    @Flag(help: "Drop the jobs of the other trace groups instead of gathering them in 'other'.") var dropOther = false
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Option(help: ArgumentHelp("Replay the trace on N static nodes per VEM group and report.", valueName: "N"))
    var replayStatic: Int?
    @Option(help: "CPUs of each static node (with --replay-static).") var cpusPerNode: Int = 1
    @Option(help: "Jobs wider than their partition: 'reject' (counted) or 'wait' (stay queued).")
    var wideJobs: String = "reject"

    func validate() throws {
        try usage(TraceInfo.problem(groups: groups, cpusPerNode: cpusPerNode, replayStatic: replayStatic, wideJobs: wideJobs))
    }

    func run() throws {
        let text = try TraceInfo.report(
            path: file, groups: groups, names: names, dropOther: dropOther, replayStatic: replayStatic,
            cpusPerNode: cpusPerNode, wideJobs: wideJobs, json: json)
        print(text, terminator: "")
    }
}
