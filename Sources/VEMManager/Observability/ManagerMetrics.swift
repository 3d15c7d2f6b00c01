import CoreMetrics
import Prometheus
import Synchronization

/// The Manager's Prometheus metrics (`GET /metrics`), kept in a registry of its own: no global
/// `MetricsSystem.bootstrap`, so several Managers in one process (the tests, the demo) never share counters.
///
/// Two kinds of figures:
/// - events, counted where they happen through swift-metrics' API on this registry's factory: trigger
///   evaluations and their durations, command outcomes and their latency, journal writes and their latency,
///   decisions;
/// - levels, read from the Manager's state when scraped (``collect(_:)``): Clients by role and state, VMs by
///   group and stage, each group's demand, target and held VMs, commands by state, property readings and bus
///   events.
///
/// Label values come from the site's configuration (group and trigger names) or from fixed sets (roles, stages,
/// states); a Client's own name is never a label, so a guest cannot grow the number of series.
public final class ManagerMetrics: Sendable {
    /// The registry `/metrics` emits.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// The label sets of every level set at the last scrape, so that a vanished one is set to 0, not left stale.
    private let levels = Mutex<[String: Set<[String]>]>([:])
    /// The totals read from the state at the last scrape (turned into counter increments).
    private let totals = Mutex<[String: UInt64]>([:])

    /// An empty registry.
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(300),
        ]
        self.factory = factory
    }

    // MARK: Events

    /// A trigger's `expr` (and `cmd` when it fired) was evaluated.
    /// - Parameters:
    ///   - trigger: The trigger's name (from the configuration).
    ///   - result: `true`, `false` or `error`.
    ///   - duration: How long the evaluation took.
    public func triggerEvaluated(_ trigger: String, result: String, duration: Duration) {
        CoreMetrics.Counter(
            label: "vem_trigger_evaluations_total", dimensions: [("trigger", trigger), ("result", result)],
            factory: factory
        ).increment()
        CoreMetrics.Timer(
            label: "vem_trigger_evaluation_duration_seconds", dimensions: [("trigger", trigger)], factory: factory
        ).recordNanoseconds(duration.nanoseconds)
    }

    /// A command the Manager sent reached its outcome.
    /// - Parameters:
    ///   - state: `done`, `failed` or `unknown`.
    ///   - latency: From submission to the outcome.
    public func commandFinished(state: String, latency: Duration) {
        CoreMetrics.Counter(label: "vem_command_outcomes_total", dimensions: [("state", state)], factory: factory)
            .increment()
        CoreMetrics.Timer(label: "vem_command_latency_seconds", dimensions: [("state", state)], factory: factory)
            .recordNanoseconds(latency.nanoseconds)
    }

    /// A journal transaction committed (or failed).
    /// - Parameters:
    ///   - operation: What it wrote (`journal a command`, `record a decision`, `record results`, …).
    ///   - duration: From asking for the write to its commit, queueing included.
    public func journalWritten(_ operation: String, duration: Duration) {
        CoreMetrics.Timer(
            label: "vem_journal_write_duration_seconds", dimensions: [("operation", operation)], factory: factory
        ).recordNanoseconds(duration.nanoseconds)
    }

    /// A decision went to the decision log.
    /// - Parameter action: Its action (`create`, `drain`, `destroy`, `migrate`, `rebalance`, …).
    public func decisionRecorded(action: String) {
        CoreMetrics.Counter(label: "vem_decisions_total", dimensions: [("action", action)], factory: factory)
            .increment()
    }

    // MARK: Levels

    /// Sets the levels from `manager` and emits the whole registry in Prometheus' text format (0.0.4).
    public func collect(_ manager: Manager) async -> String {
        let now = manager.clock.now()
        let snapshot = manager.state.snapshot(at: now)
        var clients: [[String]: Double] = [:]
        for role in ["dom0", "domU", "batch"] {
            for state in ["connected", "gone"] { clients[[role, state]] = 0 }
        }
        for c in snapshot.allClients {
            clients[[c.identity.role.name, c.connected ? "connected" : "gone"], default: 0] += 1
        }
        setLevels("vem_clients", help: "Clients known since start, by role and state.", ["role", "state"], clients)

        var vms: [[String]: Double] = [:]
        let groups = manager.site.configuration.groups.map(\.name)
        for group in groups { vms[[group, "active"]] = 0 }
        for vm in manager.pool.currentVMs() { vms[[vm.group, vm.stage], default: 0] += 1 }
        setLevels("vem_vms", help: "The pool's VMs, by group and stage.", ["group", "stage"], vms)

        let targets = manager.pool.history.latest?.groups ?? []
        var demand: [[String]: Double] = [:]
        var target: [[String]: Double] = [:]
        var held: [[String]: Double] = [:]
        for group in groups { (demand[[group]], target[[group]], held[[group]]) = (0, 0, 0) }
        for t in targets { (demand[[t.group]], target[[t.group]]) = (Double(t.demand), Double(t.target)) }
        for vm in manager.pool.currentVMs() where DashboardState.heldStages.contains(vm.stage) {
            held[[vm.group], default: 0] += 1
        }
        setLevels(
            "vem_group_demand_vms", help: "VMs each group's jobs need (busy + pending), at the last plan.", ["group"],
            demand)
        setLevels("vem_group_target_vms", help: "VMs each group should hold, at the last plan.", ["group"], target)
        setLevels(
            "vem_group_held_vms", help: "VMs each group holds now (creating, booting, registering or active).",
            ["group"], held)

        if let counts = try? await manager.journal.commandCounts() {
            var byState: [[String]: Double] = [:]
            for state in ["queued", "sent", "acknowledged", "done", "failed", "unknown"] { byState[[state]] = 0 }
            for (state, n) in counts { byState[[state]] = Double(n) }
            setLevels("vem_commands", help: "Commands in the journal, by state.", ["state"], byState)
        }
        var errors = 0
        for stats in manager.triggerWatch.triggerStats where stats.lastResult == "error" { errors += 1 }
        setLevels("vem_triggers_failing", help: "Triggers whose last evaluation failed.", [], [[]: Double(errors)])
        addTotal(
            "vem_property_readings_total", help: "Property readings received from Clients.", snapshot.propertyUpdates)
        addTotal(
            "vem_bus_events_total", help: "Membership events from the bus (joins, leaves, disconnects).",
            snapshot.busEvents)
        addTotal(
            "vem_rejected_connections_total", help: "Connections the bus refused at admission.",
            snapshot.rejectedConnections)
        setLevels("vem_start_time_seconds", help: "When the Manager started (Unix time).", [], [[]: manager.startedAt])
        return registry.emitToString()
    }

    /// Sets one gauge family: every label set in `values`, and 0 for those set last time and missing now.
    private func setLevels(_ name: String, help: String, _ labelNames: [String], _ values: [[String]: Double]) {
        let previous = levels.withLock { all in
            defer { all[name] = Set(values.keys) }
            return all[name] ?? []
        }
        var all = values
        for gone in previous where all[gone] == nil { all[gone] = 0 }
        for (labels, value) in all {
            if labelNames.isEmpty {
                registry.makeGauge(name: name, help: help).set(value)
            } else {
                registry.makeGauge(name: name, labels: Array(zip(labelNames, labels)), help: help).set(value)
            }
        }
    }

    /// Turns a running total of the state into a counter's increments.
    private func addTotal(_ name: String, help: String, _ total: UInt64) {
        let delta = totals.withLock { all -> UInt64 in
            defer { all[name] = total }
            return total &- min(all[name] ?? 0, total)
        }
        let counter = registry.makeCounter(name: name, help: help)
        if delta > 0 { counter.increment(by: Int64(clamping: delta)) }
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? .max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
