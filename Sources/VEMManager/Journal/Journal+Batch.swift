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
        // A command without arguments (most of them) is `[]`, what the encoder writes for it, without the encoder.
        let stored = commands.map {
            $0.arguments.isEmpty
                ? "[]"
                : String(
                    decoding: (try? encoder.encode($0.arguments.map(StoredArgument.init))) ?? Data("[]".utf8),
                    as: UTF8.self)
        }
        // Each statement is compiled once per transaction, not once per row (a burst of 2,000 commands).
        try await write("journal a pass") { db in
            if !decisions.isEmpty {
                let insert = try db.cachedStatement(
                    sql: "INSERT INTO decision (time, trigger, action, reason, vm, grp) VALUES (?, ?, ?, ?, ?, ?)")
                for d in decisions {
                    try insert.execute(arguments: [d.time, d.trigger, d.action, d.reason, d.vm, d.group])
                }
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
            if !commands.isEmpty {
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO command (client, seq, name, arguments, trigger, state, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)
                        """)
                for (c, arguments) in zip(commands, stored) {
                    try insert.execute(
                        arguments: [c.client, Int64(bitPattern: c.seq), c.name, arguments, c.trigger, now, now])
                }
            }
            if !updates.isEmpty {
                let update = try db.cachedStatement(
                    sql: """
                        UPDATE command SET state = ?, result = COALESCE(?, result), updated_at = ?
                        WHERE client = ? AND seq = ? AND state IN ('queued', 'sent', 'acknowledged')
                        """)
                for u in updates {
                    try update.execute(
                        arguments: [u.state.rawValue, u.result, now, u.client, Int64(bitPattern: u.seq)])
                }
            }
        }
    }
}
