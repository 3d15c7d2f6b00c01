import Foundation
import VEMRules

/// The operator's view as JSON documents: what the HTTP endpoint serves and `vem status`, `vem clients`,
/// `vem props`, `vem commands`, `vem triggers`, `vem snapshot` print. Pure of HTTP, so tests call it directly.
public struct OperatorAPI: Sendable {
    /// A response: HTTP status and JSON body.
    public struct Response: Sendable {
        /// 200, 400, 404, 500.
        public var status: Int
        /// The JSON body.
        public var body: Data
    }

    /// The routes, for the 404 message and the docs.
    public static let routes = [
        "/v1/status", "/v1/clients", "/v1/props", "/v1/commands", "/v1/triggers", "/v1/snapshot", "/v1/decisions",
        "/v1/explain", "/v1/vms",
    ]

    /// The Manager it serves.
    public let manager: Manager
    let recovery: Manager.RecoverySummary?

    /// An API over a Manager.
    /// - Parameters:
    ///   - manager: The Manager.
    ///   - recovery: What ``Manager/recover()`` returned, shown by `vem status`.
    public init(manager: Manager, recovery: Manager.RecoverySummary? = nil) {
        self.manager = manager
        self.recovery = recovery
    }

    /// Answers `GET path?query`.
    /// - Parameters:
    ///   - path: `/v1/status`, …
    ///   - query: Query parameters (`client`, `limit`).
    public func get(_ path: String, query: [String: String] = [:]) async -> Response {
        do {
            switch path {
            case "/v1/status": return try encode(await status())
            case "/v1/clients": return try encode(clients())
            case "/v1/props": return try encode(properties(client: query["client"]))
            case "/v1/commands":
                try await manager.refreshAcknowledgements()
                return try encode(try await manager.journal.recentCommands(limit: limit(query)))
            case "/v1/decisions":
                return try encode(try await manager.journal.recentDecisions(limit: limit(query)))
            case "/v1/explain":
                let name = query["name"].flatMap { $0.isEmpty ? nil : $0 }
                return try encode(try await explain(name))
            case "/v1/vms": return try encode(await vms())
            case "/v1/triggers": return try encode(manager.triggerWatch.triggerStats)
            case "/v1/snapshot": return try encode(snapshot())
            default:
                return try encode(["error": "no such endpoint \(path); try \(Self.routes.joined(separator: ", "))"], status: 404)
            }
        } catch {
            return (try? encode(["error": "\(error)"], status: 500)) ?? Response(status: 500, body: Data())
        }
    }

    private func limit(_ query: [String: String]) -> Int {
        query["limit"].flatMap(Int.init).map { min(max($0, 1), 10_000) } ?? 100
    }

    func encode(_ value: some Encodable, status: Int = 200) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, body: try encoder.encode(value))
    }

    /// The status report.
    public func status() async throws -> StatusReport {
        let now = manager.clock.now()
        let snapshot = manager.state.snapshot(at: now)
        var byRole: [String: Int] = ["dom0": 0, "domU": 0, "batch": 0]
        for client in snapshot.connectedClients { byRole[client.identity.role.name, default: 0] += 1 }
        let stats = manager.triggerWatch.triggerStats
        try await manager.refreshAcknowledgements()
        let (paused, drained) = await manager.pool.operatorState()
        var report = StatusReport(
            bus: manager.busDescription(), startedAt: manager.startedAt, now: now, connectedByRole: byRole,
            knownClients: snapshot.clients.count, busEvents: snapshot.busEvents,
            propertyUpdates: snapshot.propertyUpdates, rejectedConnections: snapshot.rejectedConnections,
            triggers: stats.count, triggerErrors: stats.reduce(0) { $0 + $1.errors },
            commands: try await manager.journal.commandCounts(), recovery: recovery,
            journal: manager.journal.path, lastErrors: snapshot.lastErrors)
        report.paused = paused
        report.drainedHosts = drained
        return report
    }

    /// Every Client known since start.
    public func clients() -> [ClientReport] {
        manager.state.snapshot(at: manager.clock.now()).allClients.map { c in
            let id = c.identity
            return ClientReport(
                name: id.name, role: id.role.name, host: id.host, group: id.group, vm: id.vmID, version: id.version,
                incarnation: id.incarnation, connected: c.connected, connectedSince: c.connectedSince,
                lastSeen: c.lastSeen, goneReason: c.goneReason, properties: c.properties.count)
        }
    }

    /// Properties of one Client, or of all.
    public func properties(client: String?) -> [PropertyRow] {
        let now = manager.clock.now()
        return manager.state.snapshot(at: now).allClients
            .filter { client == nil || $0.identity.name == client }
            .flatMap { c in
                c.properties.keys.sorted().compactMap { name in
                    c.properties[name].map {
                        PropertyRow(client: c.identity.name, name: name, value: $0.value, error: $0.error, age: max(0, now - $0.receivedAt))
                    }
                }
            }
    }

    /// `vem explain [VM|GROUP]`: the planner's explanation of the last rebalance and the decision log entries
    /// about `name` (a VM or a group), or the latest 20 when `name` is nil.
    /// - Throws: ``ManagerError/Code/journal``.
    public func explain(_ name: String?) async throws(ManagerError) -> ExplainReport {
        let decisions =
            if let name { try await manager.journal.decisions(about: name, limit: 100) } else {
                try await manager.journal.recentDecisions(limit: 20)
            }
        return ExplainReport(
            subject: name, trigger: await manager.pool.lastTrigger, explanation: await manager.pool.lastExplanation,
            decisions: decisions)
    }

    /// The pool's VMs as the Manager manages them (`vem vms`), by name.
    public func vms() async -> [VMReport] {
        await manager.pool.vmReports()
    }

    /// What the triggers see now, built as TriggerWatch builds it for a pass: the state, the configured groups
    /// with the batch Client's demand, the pool's VMs.
    public func worldView() -> WorldView {
        let now = manager.clock.now()
        let snapshot = manager.state.snapshot(at: now)
        var cache: PoolInputs.DecodedBatch?
        let demand = try? PoolInputs.batch(in: snapshot, configured: manager.pool.demandProperties, cache: &cache).get()
        return WorldView(
            snapshot, groups: manager.site.configuration.groups, demand: demand?.batch, pool: manager.pool.currentVMs(),
            declaredProperties: manager.site.configuration.properties.map(\.name))
    }

    /// The snapshot document (docs/SNAPSHOT.md).
    public func snapshot() -> JSON { worldView().snapshotDocument }
}
