import ArgumentParser
import Foundation
import VEMBatch
import VEMPolicy
import VEMPool

/// `vem simulate --trace FILE …`: the whole decision loop on a trace window, fully simulated, beside the
/// static one-partition-per-group layout of the paper's fig. 1.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay a trace window on a simulated dynamic pool and on static partitions; compare waits.",
        discussion: """
            A closed loop with no bus and no hypervisor: simulated hosts (a VM's Client joins --boot-delay \
            seconds after its creation), the replay batch (FCFS + EASY backfill per group) as the batch system, \
            the fair-share planner every --tick seconds and the reconciler that turns its plans into VM and \
            node operations. The same jobs then run on static partitions of the same CPUs, one per group, sized \
            by share (the paper's fig. 1). Both run until every job has finished; utilisation is measured over \
            the same stretch of time for both.

            Groups: the --groups heaviest trace groups by CPU time, the rest in 'other'; each group's share is \
            its percentage of the trace's CPU time. --sample K keeps one job in K to scale a large trace down to \
            a small pool. Preemption is off: the replay batch cannot kill a running job (graceful reclaim — drain, \
            the job finishes — stays on).

            Durations accept s, m, h and d suffixes (90m, 1d12h); --window START:DURATION counts from the \
            trace's time 0.
            """
    )

    @Option(help: "The SWF trace (plain or .gz).")
    var trace: String

    @Option(help: "How many of the heaviest trace groups get a VEM group of their own (the rest: 'other').")
    var groups: Int = 3

    @Option(help: "Comma-separated names for those groups, heaviest first.")
    var names: String?

    @Option(
        help: ArgumentHelp(
            "The part of the trace replayed: jobs submitted in [START, START+DURATION).",
            valueName: "START:DURATION"))
    var window: String = SimulationDefaults.window

    @Option(help: "Real hosts in the pool.")
    var hosts: Int = SimulationDefaults.hosts

    @Option(help: "vCPUs per host.")
    var cpusPerHost: Int = SimulationDefaults.cpusPerHost

    @Option(help: "vCPUs per VM (and per static node).")
    var vmCPUs: Int = SimulationDefaults.vmCPUs

    @Option(help: "Keep one job in K (scales a large trace down to the pool).")
    var sample: Int = SimulationDefaults.sample

    @Option(help: "From creating a VM to its Client joining.")
    var bootDelay: String = "60s"

    @Option(help: "Time between two planner steps.")
    var tick: String = "1m"

    @Option(help: "VMs booting at once, site-wide.")
    var maxBooting: Int = SimulationDefaults.maxBooting

    @Option(help: "A VM idle this long may be drained.")
    var idleTimeout: String = SimulationDefaults.idleTimeout

    @Option(help: "A VM younger than this is not drained.")
    var minLifetime: String = SimulationDefaults.minLifetime

    @Option(help: "Placement of new VMs: pack or spread.")
    var placement: String = "pack"

    @Option(help: "Stop the dynamic run this long after the window's start, finished or not.")
    var limit: String = "30d"

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard groups >= 0 else { throw ValidationError("--groups must be 0 or more") }
        guard hosts >= 1, cpusPerHost >= 1, vmCPUs >= 1 else {
            throw ValidationError("--hosts, --cpus-per-host and --vm-cpus must be at least 1")
        }
        guard vmCPUs <= cpusPerHost else { throw ValidationError("--vm-cpus cannot exceed --cpus-per-host") }
        guard sample >= 1 else { throw ValidationError("--sample must be at least 1") }
        guard maxBooting >= 1 else { throw ValidationError("--max-booting must be at least 1") }
        guard PolicyConfiguration.Placement(rawValue: placement) != nil else {
            throw ValidationError("--placement is 'pack' or 'spread'")
        }
        _ = try SimulationDefaults.parseWindow(window)
        for (name, value) in [
            ("--boot-delay", bootDelay), ("--tick", tick), ("--idle-timeout", idleTimeout),
            ("--min-lifetime", minLifetime), ("--limit", limit),
        ] {
            guard let s = SimulationDefaults.parseDuration(value) else {
                throw ValidationError("\(name): '\(value)' is not a duration (like 90s, 5m, 1h30m, 2d)")
            }
            if name == "--tick" || name == "--limit", s < 1 { throw ValidationError("\(name) must be at least 1s") }
        }
    }

    func run() throws {
        let clock = ContinuousClock()
        let started = clock.now
        let setup = try SimulationSetup(
            trace: trace, groups: groups, names: names, window: window, hosts: hosts, cpusPerHost: cpusPerHost,
            vmCPUs: vmCPUs, sample: sample, bootDelay: bootDelay, tick: tick, maxBooting: maxBooting,
            idleTimeout: idleTimeout, minLifetime: minLifetime, placement: placement)
        let comparison = try Comparison(
            jobs: setup.workload.jobs, groups: setup.workload.groups, window: setup.window,
            configuration: setup.configuration, limit: SimulationDefaults.parseDuration(limit) ?? 30 * 86_400)
        let wall = (clock.now - started).components
        let seconds = Double(wall.seconds) + Double(wall.attoseconds) / 1e18
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let report = SimulationJSON(setup: setup.summary, comparison: comparison, wallSeconds: seconds)
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(setup.text, terminator: "")
            print(ComparisonText.render(comparison, shares: setup.workload.groups), terminator: "")
            print(String(format: "simulated in %.2f s of wall time\n", seconds), terminator: "")
        }
    }
}

private struct SimulationJSON: Encodable {
    var setup: [String: String]
    var comparison: Comparison
    var wallSeconds: Double
}
