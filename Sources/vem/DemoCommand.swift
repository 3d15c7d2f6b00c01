import ArgumentParser
import Foundation
import VEMBatch
import VEMPolicy
import VEMPool

/// `vem demo`: the decision loop live on one machine, a window of the LCG trace replayed at high time
/// compression, with a table per group refreshed as it runs and a summary beside the static layout.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Watch the pool follow the batch queues live; end with waits compared to static partitions.",
        discussion: """
            Replays a window of the LCG trace (found at ../shared/traces/LCG.swf.gz, $VEM_TRACE or --trace; \
            without it a built-in synthetic workload of three bursting groups) on a pool of --hosts hosts, in \
            wall-clock time compressed so the window's submissions take --seconds seconds; the jobs still running \
            after it are then fast-forwarded in about --tail-seconds more. Every planner \
            step (one simulated minute) the fair-share planner decides and the reconciler creates, drains and \
            destroys VMs; a table per group shows share, pending and running jobs, and VMs booting, active and \
            draining — redrawn in place on a terminal, printed as a new block every --every seconds otherwise. \
            The summary gives per group mean and p95 wait, VMs created, destroyed and migrated, the pool's \
            utilisation, and the same window on static partitions (the paper's fig. 1).

            This build runs the loop in process: the planner, the reconciler and the replay batch are the real \
            ones; hosts and VM boots are simulated (a VM's Client joins --boot-delay simulated seconds after its \
            creation).
            """
    )

    @Option(help: "The SWF trace (default: the LCG trace if found).")
    var trace: String?

    @Option(help: ArgumentHelp("The part of the trace replayed.", valueName: "START:DURATION"))
    var window: String = SimulationDefaults.window

    @Option(help: "Keep one job in K.")
    var sample: Int = SimulationDefaults.sample

    @Option(help: "Real hosts (Dom0s) in the pool.")
    var hosts: Int = 4

    @Option(help: "vCPUs per host.")
    var cpusPerHost: Int = 16

    @Option(help: "Wall-clock seconds the window's submissions take (the time compression follows).")
    var seconds: Double = 45

    @Option(help: "Wall-clock seconds for the jobs still running after the window (fast-forward).")
    var tailSeconds: Double = 15

    @Option(help: "Stop after this many wall-clock seconds, finished or not.")
    var maxSeconds: Double = 110

    @Option(help: "Seconds between two tables when standard output is not a terminal.")
    var every: Double = 5

    @Option(help: "From creating a VM to its Client joining (simulated).")
    var bootDelay: String = "60s"

    func validate() throws {
        guard hosts >= 1, cpusPerHost >= 1, sample >= 1 else {
            throw ValidationError("--hosts, --cpus-per-host and --sample must be at least 1")
        }
        guard seconds > 0, tailSeconds > 0, maxSeconds > 0, every > 0 else {
            throw ValidationError("--seconds, --tail-seconds, --max-seconds and --every must be positive")
        }
        _ = try SimulationDefaults.parseWindow(window)
        guard SimulationDefaults.parseDuration(bootDelay) != nil else {
            throw ValidationError("--boot-delay: '\(bootDelay)' is not a duration")
        }
    }

    func run() async throws {
        let source = try DemoSource(trace: trace, window: window, sample: sample)
        let configuration = PoolSimulation.Configuration(
            hosts: hosts, cpusPerHost: cpusPerHost, bootDelay: SimulationDefaults.parseDuration(bootDelay) ?? 60,
            tick: 60,
            policy: PolicyConfiguration(
                maxBootingSiteWide: SimulationDefaults.maxBooting, maxBootingPerHost: SimulationDefaults.maxBooting / 2,
                minLifetime: 600, idleTimeout: 300, starvationGrace: PoolSimulation.preemptionOff))
        var sim = try PoolSimulation(
            jobs: source.jobs, groups: source.groups, window: source.window, configuration: configuration)
        let totalCPUs = hosts * cpusPerHost
        // The static layout first (instant): its end tells how long the tail after the window takes.
        let fixedEnd = try StaticLayout.run(
            jobs: source.jobs, groups: source.groups, window: source.window, totalCPUs: totalCPUs
        ).now
        let origin = sim.batch.origin
        let lastSubmit = source.jobs.filter { source.window?.contains($0.submitTime) ?? true }.map(\.submitTime).max()
        let windowEnd = source.window?.duration.map { origin + $0 } ?? lastSubmit ?? origin
        let pace = DemoPace(
            origin: origin, windowEnd: windowEnd, expectedEnd: fixedEnd, seconds: seconds, tailSeconds: tailSeconds)
        let compression = pace.windowRate
        print(source.banner)
        print(
            "pool: \(hosts) host\(hosts == 1 ? "" : "s") × \(cpusPerHost) vCPUs; VMs of 1 vCPU booting in \(formatSeconds(configuration.bootDelay)); "
                + "planner every simulated minute")
        print(
            "time: the window at ×\(Int(compression)) (1 s = \(formatSeconds(Int(compression)))), then the jobs still "
                + "running at ×\(Int(pace.tailRate)) (1 s = \(formatSeconds(Int(pace.tailRate))))")
        print("hosts and VM boots are simulated in process; planner, reconciler and replay batch are the real ones\n")

        let screen = LiveScreen(interactive: isatty(STDOUT_FILENO) == 1, every: every)
        let clock = ContinuousClock()
        let started = clock.now
        var finished = false
        while true {
            let wall = (clock.now - started).secondsValue
            let target = pace.simulatedTime(afterWallSeconds: wall)
            try sim.advance(to: target)
            finished = sim.isFinished
            screen.show(wall: wall, block: { DemoTable.render(sim, wall: wall, compression: compression) },
                force: finished || wall >= maxSeconds)
            if finished || wall >= maxSeconds { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let horizon = sim.now
        var fixed = try ReplayBatch(jobs: source.jobs, configuration: .init(window: source.window, wideJobs: .wait))
        try fixed.register(StaticLayout.nodes(groups: source.groups, totalCPUs: totalCPUs))
        fixed.advance(to: horizon)
        var partition: [String: Int] = [:]
        for n in StaticLayout.nodes(groups: source.groups, totalCPUs: totalCPUs) { partition[n.group, default: 0] += 1 }
        let comparison = Comparison(
            dynamic: LayoutReport(
                layout: "dynamic pool", batch: sim.batch, totalCPUs: totalCPUs, horizon: horizon,
                counters: sim.reconciler.counters, peakVMs: sim.peakVMs, peakTotal: sim.peakTotalVMs,
                vmCPUSeconds: sim.vmCPUSeconds),
            staticLayout: LayoutReport(
                layout: "static partitions", batch: fixed, totalCPUs: totalCPUs, horizon: horizon, peakVMs: partition),
            dynamicFinished: finished)
        let wall = (clock.now - started).secondsValue
        print("\n" + String(repeating: "─", count: 72))
        print(
            "summary after \(String(format: "%.0f", wall)) s (\(formatSeconds(horizon - sim.batch.origin)) simulated"
                + (finished ? ", every job done)" : ", stopped before every job was done)"))
        print(ComparisonText.render(comparison, shares: source.groups), terminator: "")
    }
}

/// Wall-clock seconds to simulated time: the window at one rate, what follows it at a faster one.
struct DemoPace {
    var origin: Int
    var windowEnd: Int
    var windowRate: Double
    var tailRate: Double

    init(origin: Int, windowEnd: Int, expectedEnd: Int, seconds: Double, tailSeconds: Double) {
        self.origin = origin
        self.windowEnd = max(origin + 60, windowEnd)
        windowRate = Double(self.windowEnd - origin) / seconds
        tailRate = max(windowRate, Double(max(0, expectedEnd - self.windowEnd)) / tailSeconds)
    }

    /// The wall seconds the window takes.
    var windowSeconds: Double { Double(windowEnd - origin) / windowRate }

    func simulatedTime(afterWallSeconds wall: Double) -> Int {
        if wall <= windowSeconds { return origin + Int(wall * windowRate) }
        return windowEnd + Int((wall - windowSeconds) * tailRate)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The workload of the demo: the LCG trace when it can be found, else the built-in synthetic one.
struct DemoSource {
    var jobs: [ReplayJob]
    var groups: [PoolGroup]
    var window: ReplayWindow?
    var banner: String

    static let searchPaths = ["../shared/traces/LCG.swf.gz", "shared/traces/LCG.swf.gz"]

    init(trace: String?, window: String, sample: Int) throws {
        let environment = ProcessInfo.processInfo.environment["VEM_TRACE"]
        let path = trace ?? environment ?? Self.searchPaths.first { FileManager.default.fileExists(atPath: $0) }
        guard let path else {
            jobs = Workload.synthetic()
            groups = Workload.syntheticGroups()
            self.window = nil
            banner = "workload: built-in synthetic bursts (atlas 50 %, cms 30 %, lhcb 20 %: each bursts in turn, "
                + "then all at once) — the LCG trace was not found (--trace FILE or VEM_TRACE=FILE)"
            return
        }
        let parsed = try SWFReader.read(path: path, name: (path as NSString).lastPathComponent)
        let workload = try Workload(trace: parsed, rule: TraceGroupRule(topGroups: 3), sample: sample)
        let w = try SimulationDefaults.parseWindow(window)
        jobs = workload.jobs
        groups = workload.groups
        self.window = w
        let count = jobs.filter { w.contains($0.submitTime) }.count
        banner = "workload: \(parsed.name), jobs submitted in [\(formatSeconds(w.start)), "
            + "+\(formatSeconds(w.duration ?? 0)))" + (sample > 1 ? ", one in \(sample) kept" : "")
            + ": \(count) jobs; groups: top 3 by CPU time "
            + "+ other, shares by CPU time (" + groups.map { "\($0.name) \(Int($0.share))%" }.joined(separator: ", ")
            + ")"
    }
}
