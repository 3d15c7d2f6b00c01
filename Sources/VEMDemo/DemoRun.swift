import Foundation
import VEMBatch
import VEMPolicy
import VEMPool

/// `vem demo`: the decision loop live on one machine, a window of the LCG trace replayed at high time
/// compression, with a table per group refreshed as it runs and a summary beside the static layout. Made from
/// ``Options`` (the workload is read and the pace chosen then), it prints its ``introduction`` and then runs.
public struct DemoRun: Sendable {
    /// What to run.
    public struct Options: Sendable {
        /// The SWF trace (default: the LCG trace if found, else a built-in workload).
        public var trace: String?
        /// The part of the trace replayed, `START:DURATION`.
        public var window = SimulationDefaults.window
        /// Keep one job in K.
        public var sample = SimulationDefaults.sample
        /// Real hosts (Dom0s) in the pool.
        public var hosts = 4
        /// vCPUs per host.
        public var cpusPerHost = 16
        /// Wall-clock seconds the window's submissions take (the time compression follows).
        public var seconds = 45.0
        /// Wall-clock seconds for the jobs still running after the window (fast-forward).
        public var tailSeconds = 30.0
        /// Stop after this many wall-clock seconds, finished or not.
        public var maxSeconds = 110.0
        /// Seconds between two tables when standard output is not a terminal.
        public var every = 5.0
        /// From a VM's start to its guest's Client starting, in simulated seconds.
        public var bootSeconds = 60
        /// Where to write the decision log at the end.
        public var decisions: String?
        /// The Dom0 Clients' hypervisor: libvirt's `test:///` driver (true) or in-memory stand-ins.
        public var libvirtTest = true
        /// Simulate the hosts and the bus too (no TCP, no Clients): the loop of `vem simulate`, live.
        public var simulated = false
        /// Serve the Manager's operator API, `/metrics` and the dashboard on this loopback port while the demo
        /// runs (0: a free one; nil: none). Not with ``simulated``.
        public var http: Int?
        /// Told the dashboard's address once it listens.
        public var onHTTP: (@Sendable (String) -> Void)?

        /// The defaults.
        public init() {}
    }

    /// The options.
    public let options: Options
    let source: DemoSource
    let pace: DemoPace
    let policy: PolicyConfiguration

    /// Reads the workload and paces the run.
    /// - Throws: ``VEMBatch/BatchError`` for an unreadable trace, ``VEMPool/PoolError`` for a bad window.
    public init(options: Options) throws {
        self.options = options
        let source = try DemoSource(trace: options.trace, window: options.window, sample: options.sample)
        self.source = source
        policy = PolicyConfiguration(
            maxBootingSiteWide: SimulationDefaults.maxBooting, maxBootingPerHost: SimulationDefaults.maxBooting / 2,
            minLifetime: 600, idleTimeout: 300, starvationGrace: PoolSimulation.preemptionOff)
        // The static layout first (instant): its end tells how long the tail after the window takes.
        let fixedEnd = try StaticLayout.run(
            jobs: source.jobs, groups: source.groups, window: source.window,
            totalCPUs: options.hosts * options.cpusPerHost
        ).now
        let origin = try ReplayBatch(jobs: source.jobs, configuration: .init(window: source.window)).origin
        let lastSubmit = source.jobs.filter { source.window?.contains($0.submitTime) ?? true }.map(\.submitTime).max()
        let windowEnd = source.window?.duration.map { origin + $0 } ?? lastSubmit ?? origin
        pace = DemoPace(
            origin: origin, windowEnd: windowEnd, expectedEnd: fixedEnd, seconds: options.seconds,
            tailSeconds: options.tailSeconds)
    }

    var totalCPUs: Int { options.hosts * options.cpusPerHost }

    /// What runs, at which pace, on what: printed before the run.
    public var introduction: String {
        let o = options
        var lines = [source.banner]
        lines.append(
            "pool: \(o.hosts) host\(o.hosts == 1 ? "" : "s") × \(o.cpusPerHost) vCPUs; VMs of 1 vCPU booting in "
                + "\(formatSeconds(o.bootSeconds)); "
                + (o.simulated
                    ? "planner every simulated minute"
                    : "the Manager polls every 30 s and rebalances on updates and every minute (simulated time)"))
        lines.append(
            "time: the window at ×\(Int(pace.windowRate)) (1 s = \(formatSeconds(Int(pace.windowRate)))), then the "
                + "jobs still running at ×\(Int(pace.tailRate)) (1 s = \(formatSeconds(Int(pace.tailRate))))")
        if o.simulated {
            lines.append(
                "hosts, bus and VM boots simulated in process (--simulated); planner, reconciler and replay batch "
                    + "are the real ones\n")
        } else {
            let hypervisors = o.libvirtTest ? "libvirt test:/// hosts" : "stand-in hypervisors"
            lines.append(
                "in one process over loopback TCP: the Manager (vem manager's services, on the demo's clock), the "
                    + "embedded hub, \(o.hosts) Dom0 Clients (\(hypervisors)), the batch Client (replay batch), a "
                    + "stand-in guest (DomU Client) per VM\n")
        }
        return lines.joined(separator: "\n")
    }

    /// Runs the demo, showing the live table on `screen`; writes the decision log when asked.
    /// - Returns: The summary: waits beside the static layout, and the Manager's part.
    /// - Throws: When the site does not start or the decision log cannot be written.
    public func run(screen: LiveScreen) async throws -> String {
        let outcome =
            options.simulated
            ? try await runSimulated(screen: screen) : try await runInProcess(screen: screen)
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
        if let path = options.decisions {
            try (outcome.decisions.map(\.description).joined(separator: "\n") + "\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        var out = "\n" + String(repeating: "─", count: 72) + "\n"
        out +=
            "summary after \(String(format: "%.0f", outcome.wall)) s "
            + "(\(formatSeconds(outcome.batch.now - outcome.batch.origin)) simulated"
            + (outcome.finished ? ", every job done)" : ", stopped before every job was done)") + "\n"
        out += ComparisonText.render(comparison, shares: source.groups)
        if let m = outcome.manager { out += m.summary() }
        return out
    }

    func runSimulated(screen: LiveScreen) async throws -> DemoOutcome {
        var sim = try PoolSimulation(
            jobs: source.jobs, groups: source.groups, window: source.window,
            configuration: PoolSimulation.Configuration(
                hosts: options.hosts, cpusPerHost: options.cpusPerHost, bootDelay: options.bootSeconds, tick: 60,
                policy: policy))
        let clock = ContinuousClock()
        let started = clock.now
        let maxSeconds = options.maxSeconds
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
struct DemoPace: Sendable {
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
struct DemoSource: Sendable {
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
