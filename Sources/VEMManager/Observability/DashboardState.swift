import Foundation

/// Everything the dashboard shows at one moment, read from a Manager: the pool by group over time, the VMs by
/// host and stage, the decision log, the Clients with their properties, and the triggers' health. A value, so
/// that ``DashboardPage`` renders it without touching the Manager.
public struct DashboardState: Sendable, Hashable {
    /// One Client and its properties (name → brief value, or `error: …`).
    public struct Client: Sendable, Hashable {
        /// Its name (chosen by the Client: untrusted text).
        public var name: String
        /// `dom0`, `domU` or `batch`.
        public var role: String
        /// Its host.
        public var host: String
        /// Its group, for a DomU Client.
        public var group: String?
        /// Whether it is connected now.
        public var connected: Bool
        /// Its properties as brief text, by name.
        public var properties: [(name: String, value: String)]

        public static func == (a: Self, b: Self) -> Bool {
            a.name == b.name && a.role == b.role && a.host == b.host && a.group == b.group && a.connected == b.connected
                && a.properties.map(\.name) == b.properties.map(\.name)
                && a.properties.map(\.value) == b.properties.map(\.value)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            hasher.combine(connected)
        }
    }

    /// Manager time now (seconds since 1970, or trace seconds in the demo).
    public var now: Double
    /// The configured groups, in order.
    public var groups: [String]
    /// The pool over time.
    public var history: [PoolHistory.Sample]
    /// The pool's VMs.
    public var vms: [VMReport]
    /// The latest decisions, newest first.
    public var decisions: [DecisionRecord]
    /// Every Client known since start.
    public var clients: [Client]
    /// The triggers' counters.
    public var triggers: [TriggerStats]

    /// The stages in which a VM counts as its group's (`held`): on its way up or running, not on its way out.
    public static let heldStages: Set<String> = ["creating", "booting", "registering", "active"]

    /// VMs each group holds now (``heldStages``), by group.
    public var held: [String: Int] {
        var held: [String: Int] = [:]
        for vm in vms where Self.heldStages.contains(vm.stage) { held[vm.group, default: 0] += 1 }
        return held
    }

    /// Reads a Manager.
    /// - Parameters:
    ///   - manager: The Manager.
    ///   - decisions: How many of the latest decisions (default 30).
    public static func read(_ manager: Manager, decisions: Int = 30) async -> DashboardState {
        let now = manager.clock.now()
        let snapshot = manager.state.snapshot(at: now)
        let clients = snapshot.allClients.map { c in
            Client(
                name: c.identity.name, role: c.identity.role.name, host: c.identity.host, group: c.identity.group,
                connected: c.connected,
                properties: c.properties.keys.sorted().map { name in
                    let entry = c.properties[name]
                    return (name, entry?.error.map { "error: \($0)" } ?? entry?.value?.brief ?? "None")
                })
        }
        return DashboardState(
            now: now, groups: manager.site.configuration.groups.map(\.name), history: manager.pool.history.all,
            vms: manager.pool.currentVMs(),
            decisions: (try? await manager.journal.recentDecisions(limit: decisions)) ?? [], clients: clients,
            triggers: manager.triggerWatch.triggerStats)
    }
}
