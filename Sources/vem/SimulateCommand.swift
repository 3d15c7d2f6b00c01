import ArgumentParser
import VEMPool

/// `vem simulate --trace FILE …`: the whole decision loop on a trace window (or `--sweep N` windows), fully
/// simulated, beside the static one-partition-per-group layout of the paper's fig. 1 and the ideal machine.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay trace windows on a simulated pool, static partitions and an ideal machine; compare waits.",
        discussion: """
            A closed loop with no bus and no hypervisor: simulated hosts (a VM's Client joins --boot-delay \
            seconds after its creation), the replay batch (FCFS + EASY backfill per group) as the batch system, \
            the fair-share planner every --tick seconds and the reconciler that turns its plans into VM and \
            node operations. The same jobs then run on static partitions of the same CPUs, one per group, sized \
            by share (the paper's fig. 1), and on the ideal machine: one machine of all CPUs, no VM cost, one \
            queue in fair-share order with EASY backfill.

            Every job submitted in the window counts in every layout, measured at one horizon (the latest \
            instant a layout still runs a job it can run): a job not started by then counts with its wait so \
            far, and is reported; so is a job a layout can never run (wider than its group's partition). Mean \
            wait, p95 wait and mean bounded slowdown (threshold 10 s) per group and overall. The guarantee \
            check: a group whose jobs never wait in their own partition must not wait longer in the pool than \
            there plus one planner step and one boot.

            Groups: the --groups heaviest trace groups (or users, queues, partitions: --group-by) by CPU time, \
            the rest in 'other'; each group's share is its percentage of the trace's CPU time. --sample K keeps \
            one job in K to scale a large trace down to a small pool. Preemption (--grace): a group below its \
            guaranteed share whose oldest job has waited that long takes VMs back by destroying busy ones; the \
            replay batch requeues their jobs, whose work is lost (graceful reclaim — drain, the job finishes — \
            always stays on).

            --sweep N replays N windows of --days days spread evenly over the trace (the first at the first \
            submission, the last ending at the last one) and prints one line per window and their means.

            Durations accept s, m, h and d suffixes (90m, 1d12h); --window START:DURATION counts from the \
            trace's time 0.
            """)

    @Option(help: "The SWF trace (plain or .gz).") var trace: String
    @Option(help: "How many of the heaviest trace groups get a VEM group of their own (the rest: 'other').")
    var groups: Int = 3
    @Option(help: "Comma-separated names for those groups, heaviest first.") var names: String?
    @Option(help: "The trace field jobs are grouped by: group, user, queue or partition.") var groupBy: String = "group"
    @Option(help: "Replay N windows spread over the trace instead of --window.") var sweep: Int?
    @Option(help: "Days per window of a sweep.") var days: Int = 7
    @Option(
        help: ArgumentHelp(
            "The part of the trace replayed: jobs submitted in [START, START+DURATION).",
            valueName: "START:DURATION"))
    var window: String = SimulationDefaults.window
    @Option(help: "Real hosts in the pool.") var hosts: Int = SimulationDefaults.hosts
    @Option(help: "vCPUs per host.") var cpusPerHost: Int = SimulationDefaults.cpusPerHost
    @Option(help: "vCPUs per VM (and per static node).") var vmCPUs: Int = SimulationDefaults.vmCPUs
    @Option(help: "Keep one job in K (scales a large trace down to the pool).")
    var sample: Int = SimulationDefaults.sample
    @Option(help: "From creating a VM to its Client joining.") var bootDelay: String = "60s"
    @Option(help: "Time between two planner steps.") var tick: String = "1m"
    @Option(help: "VMs booting at once, site-wide.") var maxBooting: Int = SimulationDefaults.maxBooting
    @Option(help: "A VM idle this long may be drained.") var idleTimeout: String = SimulationDefaults.idleTimeout
    @Option(help: "A VM younger than this is not drained.") var minLifetime: String = SimulationDefaults.minLifetime
    @Option(
        help: ArgumentHelp(
            "How long a group below its guaranteed share waits before VMs of groups above theirs are preempted "
                + "(their jobs requeued, their work lost), or 'off'.", valueName: "DURATION|off"))
    var grace: String = SimulationDefaults.grace
    @Flag(help: "Drain idle VMs after --idle-timeout even when no other group wants their room.")
    var releaseIdle = false
    @Option(help: "Placement of new VMs: pack or spread.") var placement: String = "pack"
    @Option(help: "Stop the dynamic run this long after the window's start, finished or not.") var limit: String = "30d"
    @Flag(help: "Print one JSON object instead of text.") var json = false

    /// The options, for the simulation.
    var options: SimulationOptions {
        var o = SimulationOptions(trace: trace)
        (o.groups, o.names, o.groupBy, o.sweep, o.days, o.window) = (groups, names, groupBy, sweep, days, window)
        (o.hosts, o.cpusPerHost, o.vmCPUs, o.sample, o.maxBooting) = (hosts, cpusPerHost, vmCPUs, sample, maxBooting)
        (o.bootDelay, o.tick, o.idleTimeout, o.minLifetime) = (bootDelay, tick, idleTimeout, minLifetime)
        (o.grace, o.releaseIdle, o.placement, o.limit) = (grace, releaseIdle, placement, limit)
        return o
    }

    func validate() throws {
        do { try options.validate() } catch let invalid as SimulationOptions.Invalid { throw ValidationError(invalid.message) }
    }

    func run() throws {
        let (started, options) = (ContinuousClock.now, options)
        let report = try SimulationRun.report(
            try SimulationSetup(options), sweep: sweep, days: days, limit: options.limitSeconds, json: json,
            started: started)
        print(report, terminator: "")
    }
}
