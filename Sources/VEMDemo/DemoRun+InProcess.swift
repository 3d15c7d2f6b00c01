import Foundation
import Logging
import ServiceLifecycle
import VEMBatch
import VEMManager
import VEMPolicy
import VEMPool
import VEMRules

extension DemoRun {
    /// The demo over the in-process site: real hub, real Clients, the real Manager on a clock at the demo's
    /// time compression (its triggers poll the Clients and rebalance in trace time).
    func runInProcess(screen: LiveScreen) async throws -> DemoOutcome {
        let (hosts, cpusPerHost, bootSeconds) = (options.hosts, options.cpusPerHost, options.bootSeconds)
        let batch = try ReplayBatch(jobs: source.jobs, configuration: .init(window: source.window, wideJobs: .wait))
        let names = (1...hosts).map { "host\($0)" }
        var configuration = InProcessSite.Configuration(
            hosts: names, cpusPerHost: cpusPerHost, memoryPerHostMiB: cpusPerHost * 2048, groups: source.groups,
            policy: policy, bootDelay: .milliseconds(Int(Double(bootSeconds) / pace.windowRate * 1000)))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vem-demo-\(UUID().uuidString)")
        if options.libvirtTest {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            configuration.hypervisor = .libvirtTest(directory: scratch)
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        let totalCPUs = totalCPUs
        let pace = pace
        // The site's clock stands at the origin until the Clients have joined, then runs at the demo's pace,
        // waiting for the Manager: it leaves an instant only once the Manager has handled what was due then.
        let clock = PacedClock(
            rates: CompressedClock(
                origin: Double(pace.origin),
                phases: [
                    .init(from: Double(pace.origin), rate: pace.windowRate),
                    .init(from: Double(pace.windowEnd), rate: pace.tailRate),
                ]))
        let maxSeconds = options.maxSeconds
        let source = source
        let siteConfiguration = configuration
        let (http, onHTTP) = (options.http, options.onHTTP)
        return try await withInProcessSite(siteConfiguration, batch: batch, clock: clock) { site in
            try await serving(site.manager, port: http, onBound: onHTTP) {
                let begin = ContinuousClock.now
                let activity = site.manager.activity
                clock.setBarrier { activity.isQuiet }
                clock.start()
                defer { clock.stop() }
                var oldestView = 0
                var viewAge: Int?
                var peak: [String: Int] = [:]
                var peakTotal = 0
                var vmCPUSeconds = 0
                var accounted = pace.origin
                var finished = false
                var wall = 0.0
                while true {
                    wall = (ContinuousClock.now - begin).secondsValue
                    let now = Int(clock.now())
                    // vCPUs held by VMs: the stand-ins know it; with libvirt, the hosts' last `hypervisor` report does.
                    let snapshot = site.manager.state.snapshot(at: Double(now))
                    let inVMs = site.libvirt == nil ? site.hosts.usedCPUs : Self.reportedUsed(snapshot)
                    if let age = Self.demandAge(snapshot, now: now) {
                        viewAge = age
                        oldestView = max(oldestView, age)
                    }
                    vmCPUSeconds += inVMs * max(0, now - accounted)
                    accounted = max(accounted, now)
                    // Read, used and dropped within the pass: a copy held across the sleep would make the Manager
                    // copy its reconciler (and decision log) on its next change.
                    guard let reconciler = await site.manager.pool.reconciler else {
                        throw InProcessSiteError(
                            message: "the Manager has no pool: \(await site.manager.pool.configurationError ?? "?")")
                    }
                    let view = PoolView(reconciler: reconciler, batch: site.replay.snapshot())
                    for r in view.rows { peak[r.group] = max(peak[r.group] ?? 0, r.booting + r.active + r.draining) }
                    peakTotal = max(peakTotal, view.rows.reduce(0) { $0 + $1.booting + $1.active + $1.draining })
                    finished = site.replay.withBatch { b in
                        b.isFinished && b.snapshot().groups.allSatisfy { $0.pendingJobs == 0 }
                    }
                    screen.show(
                        wall: wall,
                        block: {
                            DemoTable.render(
                                view: view, inVMs: inVMs, total: totalCPUs, counters: reconciler.counters,
                                decisions: reconciler.decisions.suffix(3), wall: wall, elapsed: now - pace.origin)
                                + Self.managerLine(site.manager, snapshot, now: now)
                        }, force: finished || wall >= maxSeconds)
                    if finished || wall >= maxSeconds { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                let final = await site.manager.pool.reconciler
                let explanation = await site.manager.pool.lastExplanation
                let trigger = await site.manager.pool.lastTrigger
                let rebalances = site.manager.triggerWatch.triggerStats.first { $0.name == "vem.rebalance" }?.fired ?? 0
                // `vem explain` for the group with the largest share: the last plan's account and its last decision.
                let group = source.groups.max { $0.share < $1.share }?.name
                var lastAbout: DecisionRecord?
                if let group { lastAbout = (try? await site.manager.journal.decisions(about: group, limit: 1))?.first }
                return DemoOutcome(
                    batch: site.replay.withBatch { $0 }, counters: final?.counters ?? PoolCounters(), peakVMs: peak,
                    peakTotal: peakTotal, vmCPUSeconds: vmCPUSeconds, finished: finished, wall: wall,
                    decisions: final?.decisions ?? [],
                    manager: ManagerReport(
                        explanation: explanation, trigger: trigger,
                        rebalances: rebalances, decisions: final?.decisionsLogged ?? 0, group: group,
                        lastDecision: lastAbout, oldestView: oldestView, viewAgeAtEnd: viewAge,
                        pollInterval: siteConfiguration.pollInterval, holdsLetGo: clock.holds.forced))
            }
        }
    }

    /// Runs `body` while the Manager's operator API (and `/metrics`, and the dashboard) listens on loopback `port`
    /// (nil: `body` alone).
    func serving<T: Sendable>(
        _ manager: Manager, port: Int?, onBound: (@Sendable (String) -> Void)?, _ body: () async throws -> T
    ) async throws -> T {
        guard let port else { return try await body() }
        var logger = Logger(label: "vem.http")
        logger.logLevel = .critical
        let service = try OperatorHTTP.service(
            api: OperatorAPI(manager: manager), host: "127.0.0.1", port: port, logger: logger,
            onBound: { bound in onBound?("http://127.0.0.1:\(bound)/") })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// The Manager's line of the live table: its triggers' evaluations and how old its view of the batch is.
    static func managerLine(_ manager: Manager, _ snapshot: StateSnapshot, now: Int) -> String {
        let stats = manager.triggerWatch.triggerStats
        let counts = stats.map { "\($0.name) ×\($0.evaluations)" }.joined(separator: ", ")
        let age = demandAge(snapshot, now: now).map { "its demand view is \(formatSeconds($0)) old" }
        return "manager: \(counts); \(age ?? "no demand reported yet")\n"
    }

    /// How old the Manager's view of the queues is: now minus the replay time of the batch Client's last
    /// `replay_demand` the Manager holds (nil before the first).
    static func demandAge(_ snapshot: StateSnapshot, now: Int) -> Int? {
        for entry in snapshot.clients.values where entry.identity.role == .batch {
            if case .object(let o)? = entry.properties["replay_demand"]?.value, case .int(let t)? = o["time"] {
                return max(0, now - Int(t))
            }
        }
        return nil
    }

    /// vCPUs held by VMs as the Dom0 Clients last reported them (`cpus - free_vcpus` of each `hypervisor`).
    static func reportedUsed(_ snapshot: StateSnapshot) -> Int {
        var used = 0
        for entry in snapshot.clients.values where entry.identity.role == .dom0 {
            guard case .object(let o)? = entry.properties["hypervisor"]?.value else { continue }
            if case .int(let cpus)? = o["cpus"], case .int(let free)? = o["free_vcpus"] { used += Int(cpus - free) }
        }
        return used
    }
}

/// What the Manager leaves for the summary: its last explanation and how many rebalances and pool decisions
/// it journaled.
struct ManagerReport: Sendable {
    var explanation: String?
    var trigger: String?
    var rebalances: Int
    var decisions: Int
    /// The group `vem explain` is shown for, and the last journaled decision about it.
    var group: String?
    var lastDecision: DecisionRecord?
    /// The oldest the Manager's view of the queues was (trace seconds), and how old it was at the end.
    var oldestView = 0
    var viewAgeAtEnd: Int?
    /// Trace seconds between two property rounds.
    var pollInterval = 30
    /// Times the clock stopped waiting for a Manager that did not become quiet within its hold limit.
    var holdsLetGo = 0

    /// The `vem explain` lines of one group in the last explanation (`group g4:` and its indented lines).
    func explain(group: String) -> [String] {
        guard let explanation else { return [] }
        var lines: [String] = []
        var inside = false
        for line in explanation.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "group \(group):" {
                inside = true
            } else if inside {
                guard line.hasPrefix("  ") else { break }
                lines.append(line.trimmingCharacters(in: .whitespaces))
            }
        }
        return lines
    }
}

extension ManagerReport {
    /// The summary's Manager lines: the rebalances and decisions it journaled, and `vem explain GROUP` for one
    /// group: its part of the last plan and the last decision about it, with its trigger and reason.
    func summary() -> String {
        var out = "manager            \(rebalances) rebalances (trigger \(trigger ?? "none")), \(decisions) pool "
        out += "decisions journaled with their trigger and reason\n"
        out += "manager view       of the queues at most \(formatSeconds(oldestView)) old "
        out += "(\(String(format: "%.1f", Double(oldestView) / Double(max(1, pollInterval)))) poll intervals), "
        out += "\(viewAgeAtEnd.map { formatSeconds($0) } ?? "never reported") at the end; the clock waited for the Manager"
        out += holdsLetGo == 0 ? "\n" : " (\(holdsLetGo) holds let go after 2 s)\n"
        guard let group else { return out }
        let lines = explain(group: group).filter { $0.hasPrefix("target:") || $0.hasPrefix("why:") }
        if !lines.isEmpty {
            out += "vem explain \(group)".padding(toLength: 19, withPad: " ", startingAt: 0)
            out += "last plan: " + lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
                .joined(separator: "; ") + "\n"
        }
        if let d = lastDecision {
            out += String(repeating: " ", count: 19) + "t=\(Int(d.time)) [\(d.trigger)] \(d.action)"
            out += (d.vm.map { " \($0)" } ?? "") + ": \(d.reason)\n"
        }
        return out
    }
}
