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
            after it are then fast-forwarded in about --tail-seconds more. The Manager polls the Clients' \
            properties every 30 simulated seconds and rebalances (policy.rebalance(): the fair-share planner \
            decides and the reconciler creates, drains and destroys VMs) on each update and every simulated \
            minute; a table per group shows share, pending and running jobs, and VMs booting, active and \
            draining — redrawn in place on a terminal, printed as a new block every --every seconds otherwise. \
            The summary gives per group mean and p95 wait, VMs created, destroyed and migrated, the pool's \
            utilisation, and the same window on static partitions (the paper's fig. 1).

            Everything runs in one process over real loopback TCP: the embedded hub, a Dom0 Client per host whose \
            vm.* command plugins drive a libvirt test:/// host (or, with --hypervisor stand-in, room accounting \
            only) and which reports its hypervisor property, the batch Client whose replay.* plugins drive the \
            replay batch and report replay.demand, a DomU Client per VM started --boot-delay after the VM, and \
            the real Manager (Listener, Sender, TriggerWatch, journal in memory) running an embedded site \
            configuration on a clock at the demo's time compression: its vem.poll and vem.rebalance triggers \
            send vm.create / replay.register / replay.drain / replay.remove / vm.destroy, each decision journaled \
            with its trigger and reason. With --simulated, the hosts, the bus and the Manager are simulated too \
            (the loop of vem simulate, shown live).
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
    var tailSeconds: Double = 30

    @Option(help: "Stop after this many wall-clock seconds, finished or not.")
    var maxSeconds: Double = 110

    @Option(help: "Seconds between two tables when standard output is not a terminal.")
    var every: Double = 5

    @Option(help: "From a VM's start to its guest's Client starting, in simulated time.")
    var bootDelay: String = "60s"

    @Option(help: "Write the decision log (the last 10 000 entries) to this file at the end.")
    var decisions: String?

    @Option(help: "The Dom0 Clients' hypervisor: 'test' (libvirt's test:/// driver) or 'stand-in' (in memory).")
    var hypervisor: String = "test"

    @Flag(help: "Simulate the hosts and the bus too (no TCP, no Clients): the loop of `vem simulate`, live.")
    var simulated = false

    func validate() throws {
        guard hosts >= 1, cpusPerHost >= 1, sample >= 1 else {
            throw ValidationError("--hosts, --cpus-per-host and --sample must be at least 1")
        }
        guard hypervisor == "test" || hypervisor == "stand-in" else {
            throw ValidationError("--hypervisor is 'test' or 'stand-in'")
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
        let bootSeconds = SimulationDefaults.parseDuration(bootDelay) ?? 60
        let policy = PolicyConfiguration(
            maxBootingSiteWide: SimulationDefaults.maxBooting, maxBootingPerHost: SimulationDefaults.maxBooting / 2,
            minLifetime: 600, idleTimeout: 300, starvationGrace: PoolSimulation.preemptionOff)
        let totalCPUs = hosts * cpusPerHost
        // The static layout first (instant): its end tells how long the tail after the window takes.
        let fixedEnd = try StaticLayout.run(
            jobs: source.jobs, groups: source.groups, window: source.window, totalCPUs: totalCPUs
        ).now
        let origin = try ReplayBatch(jobs: source.jobs, configuration: .init(window: source.window)).origin
        let lastSubmit = source.jobs.filter { source.window?.contains($0.submitTime) ?? true }.map(\.submitTime).max()
        let windowEnd = source.window?.duration.map { origin + $0 } ?? lastSubmit ?? origin
        let pace = DemoPace(
            origin: origin, windowEnd: windowEnd, expectedEnd: fixedEnd, seconds: seconds, tailSeconds: tailSeconds)
        print(source.banner)
        print(
            "pool: \(hosts) host\(hosts == 1 ? "" : "s") × \(cpusPerHost) vCPUs; VMs of 1 vCPU booting in "
                + "\(formatSeconds(bootSeconds)); "
                + (simulated
                    ? "planner every simulated minute"
                    : "the Manager polls every 30 s and rebalances on updates and every minute (simulated time)"))
        print(
            "time: the window at ×\(Int(pace.windowRate)) (1 s = \(formatSeconds(Int(pace.windowRate)))), then the "
                + "jobs still running at ×\(Int(pace.tailRate)) (1 s = \(formatSeconds(Int(pace.tailRate))))")
        let screen = LiveScreen(interactive: isatty(STDOUT_FILENO) == 1, every: every)
        let outcome: DemoOutcome
        if simulated {
            print(
                "hosts, bus and VM boots simulated in process (--simulated); planner, reconciler and replay batch "
                    + "are the real ones\n")
            outcome = try await runSimulated(
                source, policy: policy, bootSeconds: bootSeconds, pace: pace, screen: screen)
        } else {
            let hypervisors =
                hypervisor == "test" ? "libvirt test:/// hosts" : "stand-in hypervisors"
            print(
                "in one process over loopback TCP: the Manager (vem manager's services, on the demo's clock), the "
                    + "embedded hub, \(hosts) Dom0 Clients (\(hypervisors)), the batch Client (replay batch), a "
                    + "stand-in guest (DomU Client) per VM\n")
            outcome = try await runInProcess(
                source, policy: policy, bootSeconds: bootSeconds, pace: pace, screen: screen)
        }
        var fixed = try ReplayBatch(jobs: source.jobs, configuration: .init(window: source.window, wideJobs: .wait))
        try fixed.register(StaticLayout.nodes(groups: source.groups, totalCPUs: totalCPUs))
        fixed.advance(to: outcome.batch.now)
        var partition: [String: Int] = [:]
        for n in StaticLayout.nodes(groups: source.groups, totalCPUs: totalCPUs) { partition[n.group, default: 0] += 1 }
        let comparison = Comparison(
            dynamic: LayoutReport(
                layout: "dynamic pool", batch: outcome.batch, totalCPUs: totalCPUs, horizon: outcome.batch.now,
                counters: outcome.counters, peakVMs: outcome.peakVMs, peakTotal: outcome.peakTotal,
                vmCPUSeconds: outcome.vmCPUSeconds),
            staticLayout: LayoutReport(
                layout: "static partitions", batch: fixed, totalCPUs: totalCPUs, horizon: outcome.batch.now,
                peakVMs: partition),
            dynamicFinished: outcome.finished)
        if let path = decisions {
            try (outcome.decisions.map(\.description).joined(separator: "\n") + "\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        print("\n" + String(repeating: "─", count: 72))
        print(
            "summary after \(String(format: "%.0f", outcome.wall)) s "
                + "(\(formatSeconds(outcome.batch.now - outcome.batch.origin)) simulated"
                + (outcome.finished ? ", every job done)" : ", stopped before every job was done)"))
        print(ComparisonText.render(comparison, shares: source.groups), terminator: "")
        if let m = outcome.manager { print(m.summary(), terminator: "") }
    }

    func runSimulated(
        _ source: DemoSource, policy: PolicyConfiguration, bootSeconds: Int, pace: DemoPace, screen: LiveScreen
    ) async throws -> DemoOutcome {
        var sim = try PoolSimulation(
            jobs: source.jobs, groups: source.groups, window: source.window,
            configuration: PoolSimulation.Configuration(
                hosts: hosts, cpusPerHost: cpusPerHost, bootDelay: bootSeconds, tick: 60, policy: policy))
        let clock = ContinuousClock()
        let started = clock.now
        var finished = false
        var wall = 0.0
        while true {
            wall = (clock.now - started).secondsValue
            try sim.advance(to: pace.simulatedTime(afterWallSeconds: wall))
            finished = sim.isFinished
            screen.show(
                wall: wall, block: { DemoTable.render(sim, wall: wall, compression: pace.windowRate) },
                force: finished || wall >= maxSeconds)
            if finished || wall >= maxSeconds { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return DemoOutcome(
            batch: sim.batch, counters: sim.reconciler.counters, peakVMs: sim.peakVMs, peakTotal: sim.peakTotalVMs,
            vmCPUSeconds: sim.vmCPUSeconds, finished: finished, wall: wall, decisions: sim.reconciler.decisions,
            manager: nil)
    }
}

/// What a demo run leaves for the summary.
struct DemoOutcome: Sendable {
    var batch: ReplayBatch
    var counters: PoolCounters
    var peakVMs: [String: Int]
    var peakTotal: Int
    var vmCPUSeconds: Int
    var finished: Bool
    var wall: Double
    var decisions: [PoolDecision]
    /// The Manager's part (nil with --simulated, which runs no Manager).
    var manager: ManagerReport?
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
            banner =
                "workload: built-in synthetic bursts (atlas 50 %, cms 30 %, lhcb 20 %: each bursts in turn, "
                + "then all at once) — the LCG trace was not found (--trace FILE or VEM_TRACE=FILE)"
            return
        }
        let parsed = try SWFReader.read(path: path, name: (path as NSString).lastPathComponent)
        let workload = try Workload(trace: parsed, rule: TraceGroupRule(topGroups: 3), sample: sample)
        let w = try SimulationDefaults.parseWindow(window)
        jobs = workload.jobs
        // Whole percentages, as a site's `[group:…] share` takes them; both layouts use the same shares.
        groups = workload.groups.map { g in
            var g = g
            g.share = max(1, g.share.rounded(.down))
            return g
        }
        self.window = w
        let count = jobs.filter { w.contains($0.submitTime) }.count
        banner =
            "workload: \(parsed.name), jobs submitted in [\(formatSeconds(w.start)), "
            + "+\(formatSeconds(w.duration ?? 0)))" + (sample > 1 ? ", one in \(sample) kept" : "")
            + ": \(count) jobs; groups: top 3 by CPU time "
            + "+ other, shares by CPU time (" + groups.map { "\($0.name) \(Int($0.share))%" }.joined(separator: ", ")
            + ")"
    }
}
