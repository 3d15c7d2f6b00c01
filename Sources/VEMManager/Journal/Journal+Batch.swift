import Foundation
import GRDB
import VEMProtocol

extension Journal {
    /// A command to journal as `queued` before it is handed to the bus.
    struct NewCommand: Sendable {
        var client: String
        var seq: UInt64
        var name: String
        var arguments: [NamedValue]
        var trigger: String?
    }

    /// A command's new state.
    struct CommandUpdate: Sendable {
        var client: String
        var seq: UInt64
        var state: CommandState
        var result: String?
    }

    /// What changed in the VM inventory since it was last journaled.
    struct InventoryChanges: Sendable {
        var upserts: [InventoryRecord] = []
        var removed: [String] = []

        var isEmpty: Bool { upserts.isEmpty && removed.isEmpty }
    }

    /// Journals in one transaction (one commit, however many rows): decisions, the inventory's changes, new
    /// commands (`queued`) and commands' new states. What one pass of the Sender writes before and after it hands
    /// its commands to the bus.
    func record(
        decisions: [DecisionRecord] = [], inventory: InventoryChanges = InventoryChanges(),
        commands: [NewCommand] = [], updates: [CommandUpdate] = [], at now: Double
    ) async throws(ManagerError) {
        guard !decisions.isEmpty || !inventory.isEmpty || !commands.isEmpty || !updates.isEmpty else { return }
        let encoder = JSONEncoder()
        let stored = commands.map {
            String(
                decoding: (try? encoder.encode($0.arguments.map(StoredArgument.init))) ?? Data("[]".utf8),
                as: UTF8.self)
        }
        try await write("journal a pass") { db in
            for d in decisions {
                try db.execute(
                    sql: "INSERT INTO decision (time, trigger, action, reason, vm, grp) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [d.time, d.trigger, d.action, d.reason, d.vm, d.group])
            }
            for name in inventory.removed {
                try db.execute(sql: "DELETE FROM vm_inventory WHERE name = ?", arguments: [name])
            }
            for r in inventory.upserts {
                try db.execute(
                    sql: """
                        INSERT INTO vm_inventory (name, grp, host, state, updated_at, created_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (name) DO UPDATE SET grp = excluded.grp, host = excluded.host,
                          state = excluded.state, updated_at = excluded.updated_at, created_at = excluded.created_at
                        """,
                    arguments: [r.name, r.group, r.host, r.state, r.updatedAt, r.createdAt])
            }
            for (c, arguments) in zip(commands, stored) {
                try db.execute(
                    sql: """
                        INSERT INTO command (client, seq, name, arguments, trigger, state, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)
                        """,
                    arguments: [c.client, Int64(bitPattern: c.seq), c.name, arguments, c.trigger, now, now])
            }
            for u in updates {
                try db.execute(
                    sql: """
                        UPDATE command SET state = ?, result = COALESCE(?, result), updated_at = ?
                        WHERE client = ? AND seq = ? AND state IN ('queued', 'sent', 'acknowledged')
                        """,
                    arguments: [u.state.rawValue, u.result, now, u.client, Int64(bitPattern: u.seq)])
            }
        }
    }
}
