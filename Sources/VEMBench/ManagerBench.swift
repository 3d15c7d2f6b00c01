import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VEMConfig
import VEMCore
import VEMHub
import VEMManager
import VEMSite

/// `vem bench manager`: the whole Manager under a site's load. A real Manager (``VEMManager/ManagerService``:
/// the journal on disk in a scratch directory, the hub on loopback, the default triggers `vem.poll` and
/// `vem.rebalance`) runs in this process; a load process (`vem bench-clients --mode site`, ``SiteClients``) holds
/// the Dom0 Clients, the VMs' guests, the batch Client and plain Clients. The demand first asks for `vms` VMs
/// (the setup), then changes in `steps` steps; each step's latency runs from the batch Client's first reply
/// carrying the new demand to the first `vm.create` arriving at a Dom0.
///
/// The load process stands for up to 10,000 remote machines but shares this machine's cores with the Manager, so
/// an event loop's stall includes time spent waiting for a core the load process holds. `loadNiceness` (`vem bench
/// manager --load-nice N`) starts it, and the bus-alone phase's load process, at that nice value: the kernel then
/// gives the Manager's threads a core first. It changes no work the Manager does; the README reports the figures
/// both ways.
public struct ManagerBench: Sendable {
    /// The site's size.
    public struct Options: Sendable {
        /// Dom0 Clients.
        public var hosts = 100
        /// Clients in all.
        public var clients = 1_000
        /// VMs of the first demand.
        public var vms = 200
        /// Groups.
        public var groups = 4
        /// Measured demand steps.
        public var steps = 10
        /// `poll_interval`, seconds.
        public var pollInterval = 2
        /// Commands sent through the Sender in the throughput phase.
        public var commands = 2_000
        /// The nice value of the load process (and of the bus-alone phase's), 0 to 19: 0 runs it at the bench's
        /// priority. It stands for up to 10,000 remote machines, yet shares the Manager's cores; above 0 the
        /// kernel gives the Manager's threads a core first when both are runnable.
        public var loadNiceness = 0
        /// The nice steps below the process of the Manager's journal writes (``VEMManager/BackgroundPriority``):
        /// `vem manager`'s by default; 0 runs them at the loops' level.
        public var backgroundNiceness = BackgroundPriority.managerDefault

        /// The defaults.
        public init() {}
    }

    /// The options.
    public let options: Options
    /// This executable (the load process is `vem bench-clients`).
    public let executable: URL
    /// Whether the bus alone's property round is measured too, in the same run, after the Manager's.
    public let busBaseline: Bool

    /// A bench of `options`, spawning `executable` for the load; `busBaseline`: also the bus alone's round.
    public init(options: Options, executable: URL, busBaseline: Bool = true) {
        self.options = options
        self.executable = executable
        self.busBaseline = busBaseline
    }

    /// VMs more per step.
    var delta: Int { max(1, options.vms / 50) }
    /// vCPUs per host: room for every VM of every step, half again.
    var cpusPerHost: Int {
        let most = options.vms + options.steps * delta + options.groups
        return max(4, (most * 3 / 2 + options.hosts - 1) / max(1, options.hosts))
    }

    /// The site's configuration: the groups, fast polls, room to boot every VM at once, no migration.
    var ini: String {
        let most = options.vms + options.steps * delta + options.groups
        var lines = [
            "[manager]",
            "poll_interval = \(options.pollInterval)s",
            "rebalance_interval = 60s",
            "max_booting = \(most)",
            "max_booting_per_host = \(cpusPerHost)",
            "migration = no",
        ]
        for g in 0..<options.groups {
            lines += ["", "[group:g\(g)]", "share = \(max(1, 100 / options.groups))", "vm_vcpus = 1", "vm_memory_mib = 1024"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs the bench.
    /// - Throws: ``BenchError`` when the site does not load, the load process fails or a phase times out;
    ///   the Manager's errors.
    public func run() async throws -> ManagerBenchFigures {
        var figures = ManagerBenchFigures(options: options)
        let loaded = Site.load([ConfigSource(name: "bench-manager.ini", text: ini)])
        guard let site = loaded.site else { throw BenchError("the bench's site does not load: \(loaded.diagnostics)") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vem-bench-manager-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let quiet = {
            var l = Logger(label: "vem.bench.manager")
            l.logLevel = .critical
            return l
        }()
        let token = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let meter = LoopTickMeter()
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount, metricsDelegate: meter)
        var service = ManagerService.Options()
        service.token = token
        service.journalPath = scratch.appendingPathComponent("journal.sqlite").path
        service.logger = quiet
        service.backgroundNiceness = options.backgroundNiceness
        service.transport = { engine throws(ManagerError) in
            .hub(
                HubConfiguration(
                    host: "127.0.0.1", port: 0, engine: engine, maximumConnections: 16_384,
                    maximumConnectionsPerAddress: 16_384),
                logger: quiet, eventLoopGroup: loops)
        }
        let manager = try await ManagerService.start(site: site, options: service)
        let running = Task { try await manager.run() }
        let probe = StallProbe()
        probe.start(on: loops)
        let rssBefore = residentKiB()

        let child = try ChildProcess(
            executable: executable,
            arguments: [
                "bench-clients", "--mode", "site", "--connect", "127.0.0.1:\(manager.hubPort)", "--token", token,
                "--clients", "\(options.clients)", "--hosts", "\(options.hosts)", "--vms", "\(options.vms)",
                "--groups", "\(options.groups)", "--cpus-per-host", "\(cpusPerHost)", "--delta", "\(delta)",
            ], niceness: options.loadNiceness)
        do {
            try await child.expect("ready", timeout: .seconds(600))
            let setupStart = ContinuousClock.now
            try await waitForVMs(options.vms, child: child, timeout: 600)
            figures.setupSeconds = (ContinuousClock.now - setupStart).milliseconds / 1_000
            figures.rssPerClientKiB = Double(residentKiB() - rssBefore) / Double(max(1, options.clients))

            // The measured steps.
            _ = manager.manager.sender.passTimings.take(reset: true)
            probe.reset()
            meter.reset()
            let cpuBefore = processCPUMilliseconds()
            let roundsBefore = manager.manager.sender.progress.propertyRequests
            let timings = manager.manager.sender.passTimings
            for k in 1...max(1, options.steps) {
                _ = timings.creationTicks(reset: true)
                try await child.send("step \(k)")
                let line = try await child.expectPrefix("create ", timeout: .seconds(120))
                let fields = line.split(separator: " ").dropFirst().map(String.init)
                figures.createLatencies.append(Double(fields.first ?? "") ?? 0)
                // Beyond the tick: from the later of the demand change and the tick of the trigger pass that
                // planned the first create (the end of the on-update debounce) to that create's arrival.
                if fields.count >= 3, let changed = UInt64(fields[1]), let arrived = UInt64(fields[2]),
                    let tick = timings.creationTicks().first
                {
                    let from = max(changed, tick)
                    figures.createBeyondTick.append(arrived > from ? Double(arrived - from) / 1e6 : 0)
                }
                try await waitForVMs(options.vms + k * delta, child: child, timeout: 120)
            }
            let rounds = manager.manager.sender.progress.propertyRequests - roundsBefore
            figures.cpuPerRound = (processCPUMilliseconds() - cpuBefore) / Double(max(1, rounds))
            figures.rounds = rounds
            let passes = timings.take(reset: true)
            (figures.passes, figures.plans) = (passes.pass, passes.plan)
            figures.loopStall = probe.worstMilliseconds
            figures.poolStall = probe.worstPoolMilliseconds
            figures.loopPhases = meter.current
            meter.stop()

            // Quiet poll rounds (no demand change; the stall probe stopped, since it costs CPU of its own): what
            // the bus-alone round below is compared with.
            probe.stop()
            let quietCPU = processCPUMilliseconds()
            let quietStart = manager.manager.sender.progress.propertyRequests
            let quietDeadline = ContinuousClock.now + .seconds(Self.quietRounds * options.pollInterval * 4 + 30)
            // Looked at every 250 ms: the bench's own wake-ups are counted in this process's CPU too.
            while manager.manager.sender.progress.propertyRequests - quietStart < Self.quietRounds {
                guard ContinuousClock.now < quietDeadline else { throw BenchError("the poll rounds stopped") }
                try await Task.sleep(for: .milliseconds(250))
            }
            let quiet = manager.manager.sender.progress.propertyRequests - quietStart
            figures.quietCPUPerRound = (processCPUMilliseconds() - quietCPU) / Double(max(1, quiet))

            // Commands through the Sender to their results.
            try await commandBurst(manager.manager, into: &figures)
            figures.purePasses = await manager.manager.pool.purePassMilliseconds(iterations: 20)
            try await child.send("quit")
            await child.waitForExit()
        } catch {
            probe.stop()
            child.kill()
            running.cancel()
            await manager.endpoint.shutdown()
            throw error
        }
        probe.stop()
        running.cancel()
        _ = try? await running.value
        await manager.endpoint.shutdown()
        try? await loops.shutdownGracefully()
        if busBaseline { figures.busCPUPerRound = try await busAloneCPUPerRound() }
        figures.loadAverage = loadAverage()
        return figures
    }

    /// Poll rounds measured for the Manager's CPU when nothing changes, and for the bus alone.
    static let quietRounds = 5

    /// The bus alone in the same run (``HubPhase``, what `vem bench bus` measures): the hub's CPU per property
    /// round to the same number of Clients, over ``quietRounds`` rounds after one warm-up, in milliseconds.
    private func busAloneCPUPerRound() async throws -> Double {
        let hub = try await HubPhase(
            executable: executable, clients: options.clients, loadNiceness: options.loadNiceness)
        var series = RoundSeries()
        var notes: [String] = []
        do {
            try await hub.withClients { _ in
                _ = await hub.rounds(Self.quietRounds, warmUp: 1, into: &series, notes: &notes)
            }
        } catch {
            await hub.shutdown()
            throw error
        }
        await hub.shutdown()
        return series.cpuPerRound
    }

    private func waitForVMs(_ count: Int, child: ChildProcess, timeout: Int) async throws {
        try await child.send("wait-vms \(count) \(timeout * 1_000)")
        let line = try await child.expectPrefix("vms-", timeout: .seconds(timeout + 10))
        guard line.hasPrefix("vms-ready") else { throw BenchError("the Manager did not bring up \(count) VMs: \(line)") }
    }

    /// `commands` commands to the plain Clients (or the hosts) through the Sender: journaled (`queued`, `sent`)
    /// and handed to the bus, then their results journaled.
    private func commandBurst(_ manager: Manager, into figures: inout ManagerBenchFigures) async throws {
        let plain = max(0, options.clients - options.hosts - 1 - options.vms - options.steps * delta)
        let targets = plain > 0 ? (0..<plain).map { "c\($0)" } : (0..<options.hosts).map { "h\($0)" }
        let count = options.commands
        let actions = (0..<count).map { i in
            TriggerAction.command(client: targets[i % targets.count], name: "bench.noop", arguments: [])
        }
        let before = manager.sender.progress
        let start = ContinuousClock.now
        manager.sender.enqueue(actions, trigger: "bench.commands")
        var journaled: Duration?
        let deadline = start + .seconds(300)
        while ContinuousClock.now < deadline {
            let now = manager.sender.progress
            if journaled == nil && now.commands - before.commands >= count { journaled = ContinuousClock.now - start }
            if now.outcomes - before.outcomes >= count { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        let done = ContinuousClock.now - start
        guard let journaled, manager.sender.progress.outcomes - before.outcomes >= count else {
            throw BenchError("the Sender did not carry out \(count) commands within 300 s")
        }
        figures.journaledPerSecond = Double(count) / (journaled.milliseconds / 1_000)
        figures.resultsPerSecond = Double(count) / (done.milliseconds / 1_000)
    }
}

/// The longest lateness of a 1 ms timer on each of the hub's event loops, and of a 10 ms sleep on the cooperative
/// pool.
final class StallProbe: Sendable {
    /// The cooperative pool's probe period.
    static let poolPeriodMilliseconds: Int64 = 10
    private let worst = Atomic<Int64>(0)
    private let worstPool = Atomic<Int64>(0)
    private let tasks = Mutex<[RepeatedTask]>([])
    private let pool = Mutex<Task<Void, Never>?>(nil)

    func start(on group: MultiThreadedEventLoopGroup) {
        for loop in group.makeIterator() {
            let last = Mutex(NIODeadline.now())
            let task = loop.scheduleRepeatedTask(initialDelay: .milliseconds(1), delay: .milliseconds(1)) { [self] _ in
                let now = NIODeadline.now()
                let late = last.withLock { l in
                    defer { l = now }
                    return Int64(now.uptimeNanoseconds) - Int64(l.uptimeNanoseconds) - 1_000_000
                }
                worst.max(late)
            }
            tasks.withLock { $0.append(task) }
        }
        // The pool's probe sleeps 10 ms, not 1: each wake-up is a timer of libdispatch's manager thread (which it
        // runs at nice -4, above the loops) and then a cooperative thread, both preempting an event loop; at 1 ms
        // they were most of the loops' preemptions by the bench's own threads (`perf record -e
        // sched:sched_switch`), so the probe of the pool inflated the stall of the loops it does not measure.
        let task = Task { [self] in
            while !Task.isCancelled {
                let before = ContinuousClock.now
                try? await Task.sleep(for: .milliseconds(Self.poolPeriodMilliseconds))
                worstPool.max((ContinuousClock.now - before).nanoseconds - Self.poolPeriodMilliseconds * 1_000_000)
            }
        }
        pool.withLock { $0 = task }
    }

    func reset() {
        worst.store(0, ordering: .relaxed)
        worstPool.store(0, ordering: .relaxed)
    }

    var worstMilliseconds: Double { Double(worst.load(ordering: .relaxed)) / 1e6 }
    var worstPoolMilliseconds: Double { Double(worstPool.load(ordering: .relaxed)) / 1e6 }

    func stop() {
        for task in tasks.withLock({ $0 }) { task.cancel() }
        pool.withLock { $0?.cancel() }
    }
}

extension Atomic<Int64> {
    /// Raises the value to `candidate` if larger.
    func max(_ candidate: Int64) {
        var current = load(ordering: .relaxed)
        while candidate > current {
            let (exchanged, original) = compareExchange(
                expected: current, desired: candidate, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}

/// The 1-minute load average, from /proc/loadavg.
func loadAverage() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return 0 }
    return Double(text.split(separator: " ").first ?? "") ?? 0
}

/// The figures `vem bench manager` prints.
public struct ManagerBenchFigures: Sendable {
    var options: ManagerBench.Options
    var setupSeconds = 0.0
    var createLatencies: [Double] = []
    var createBeyondTick: [Double] = []
    var passes: [Double] = []
    var plans: [Double] = []
    var purePasses: [Double] = []
    var journaledPerSecond = 0.0
    var resultsPerSecond = 0.0
    var loopStall = 0.0
    var poolStall = 0.0
    var loopPhases = LoopTickMeter.Worst()
    var rssPerClientKiB = 0.0
    var cpuPerRound = 0.0
    var quietCPUPerRound = 0.0
    var busCPUPerRound = 0.0
    var rounds = 0
    var loadAverage = 0.0

    private var fields: [(String, String, String)] {
        let o = options
        let pureP50 = percentile(purePasses, 0.5)
        let pureP99 = percentile(purePasses, 0.99)
        return [
            ("hosts", "\(o.hosts)", "hosts"), ("clients", "\(o.clients)", "clients"), ("vms", "\(o.vms)", "vms"),
            ("groups", "\(o.groups)", "groups"), ("steps", "\(createLatencies.count)", "steps"),
            ("setup_s", fixed(setupSeconds), "setup (first demand → all VMs up)"),
            ("create_p50_ms", fixed(percentile(createLatencies, 0.5)), "demand change → first vm.create p50"),
            ("create_p99_ms", fixed(percentile(createLatencies, 0.99)), "demand change → first vm.create p99"),
            ("create_beyond_tick_p50_ms", fixed(percentile(createBeyondTick, 0.5)),
             "  beyond the trigger's tick (debounce end) p50"),
            ("create_beyond_tick_p99_ms", fixed(percentile(createBeyondTick, 0.99)),
             "  beyond the trigger's tick (debounce end) p99"),
            ("pass_p50_ms", fixed(percentile(passes, 0.5)), "rebalance pass p50"),
            ("pass_p99_ms", fixed(percentile(passes, 0.99)), "rebalance pass p99"),
            ("passes", "\(passes.count)", "rebalance passes measured"),
            ("plan_p50_ms", fixed(percentile(plans, 0.5)), "  of which plan (state → operations) p50"),
            ("pure_pass_p50_ms", fixed(pureP50), "pure planner pass p50 (the limit)"),
            ("pure_pass_p99_ms", fixed(percentile(purePasses, 0.99)), "pure planner pass p99"),
            ("pass_ratio", fixed(pureP50 > 0 ? percentile(passes, 0.99) / pureP50 : 0), "pass p99 / pure p50"),
            ("pass_ratio_p50", fixed(pureP50 > 0 ? percentile(passes, 0.5) / pureP50 : 0), "pass p50 / pure p50"),
            ("pass_ratio_p99", fixed(pureP99 > 0 ? percentile(passes, 0.99) / pureP99 : 0), "pass p99 / pure p99"),
            ("commands_journaled_per_s", fixed(journaledPerSecond, 0), "commands journaled and sent /s"),
            ("commands_results_per_s", fixed(resultsPerSecond, 0), "commands to their journaled results /s"),
            ("event_loop_stall_ms", fixed(loopStall), "longest event-loop stall (1 ms probe)"),
            ("cooperative_pool_stall_ms", fixed(poolStall), "longest cooperative-pool lateness (10 ms sleep)"),
            ("loop_longest_tick_ms", fixed(Double(loopPhases.tick) / 1e6), "  longest run of a loop's tasks"),
            ("loop_longest_tick_tasks", "\(loopPhases.tickTasks)", "    tasks in it"),
            ("loop_longest_tick_cpu_ms", fixed(Double(loopPhases.tickCPU) / 1e6),
             "    the loop thread's CPU in it and the I/O before"),
            ("loop_longest_io_ms", fixed(Double(loopPhases.gap) / 1e6), "  longest I/O phase (wait + handling)"),
            ("loop_longest_io_cpu_ms", fixed(Double(loopPhases.gapCPU) / 1e6),
             "    the loop thread's CPU in it and the tick after"),
            ("loop_most_cpu_between_polls_ms", fixed(Double(loopPhases.busiest) / 1e6),
             "  most loop CPU from one tick's end to the next's"),
            ("loop_most_cpu_io_ms", fixed(Double(loopPhases.busiestGap) / 1e6), "    its I/O phase (wall)"),
            ("loop_most_cpu_tick_ms", fixed(Double(loopPhases.busiestTick) / 1e6), "    its tick (wall)"),
            ("loop_most_cpu_tick_tasks", "\(loopPhases.busiestTasks)", "    tasks in its tick"),
            ("manager_rss_per_client_kib", fixed(rssPerClientKiB), "Manager RSS per Client"),
            ("manager_cpu_ms_per_round", fixed(cpuPerRound), "Manager CPU per poll round (steps included)"),
            ("manager_cpu_us_per_client_round", fixed(cpuPerRound * 1_000 / Double(max(1, o.clients))),
             "Manager CPU per Client per round"),
            ("rounds", "\(rounds)", "poll rounds measured"),
            ("manager_cpu_ms_per_quiet_round", fixed(quietCPUPerRound),
             "Manager CPU per poll round, no demand change"),
            ("bus_cpu_ms_per_round", fixed(busCPUPerRound), "the bus alone's CPU per round (same run)"),
            ("cpu_ratio", fixed(busCPUPerRound > 0 ? quietCPUPerRound / busCPUPerRound : 0),
             "quiet Manager round / bus-alone round"),
            ("load_nice", "\(o.loadNiceness)", "the load process's nice value"),
            ("background_nice", "\(o.backgroundNiceness)", "the journal writes' nice steps below the loops"),
            ("load_average", fixed(loadAverage), "load average (1 min) at the end"),
        ]
    }

    /// One JSON object.
    public var json: String {
        "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// A table for people.
    public var table: String {
        (["manager bench"] + fields.map { $0.2.padding(toLength: 48, withPad: " ", startingAt: 0) + $0.1 })
            .joined(separator: "\n")
    }
}
