import GRDB
import VEMPool

extension Journal {
    /// The operator's holds' migration: `v4` keeps what `vem pause` and `vem host drain` hold (one row each:
    /// `pause` with an empty name, `drain_host` with the host), who asked and since when.
    static func registerOperatorMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    CREATE TABLE operator_hold (
                        kind TEXT NOT NULL, name TEXT NOT NULL, operator TEXT NOT NULL, since REAL NOT NULL,
                        PRIMARY KEY (kind, name))
                    """)
        }
    }

    /// Journals an operator's decision and, in the same transaction, what the operator's actions hold after it
    /// (`holds`; nil: unchanged). A hold kept from before keeps its operator and time.
    public func recordOperatorDecision(
        _ decision: DecisionRecord, holds: OperatorHolds?, by operatorName: String
    ) async throws(ManagerError) {
        try await write("record an operator action") { db in
            try db.execute(
                sql: "INSERT INTO decision (time, trigger, action, reason, vm, grp) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    decision.time, decision.trigger, decision.action, decision.reason, decision.vm, decision.group,
                ])
            guard let holds else { return }
            let rows = (holds.paused ? [("pause", "")] : []) + holds.drainedHosts.sorted().map { ("drain_host", $0) }
            let kept = Set(rows.map { "\($0.0)/\($0.1)" })
            for row in try Row.fetchAll(db, sql: "SELECT kind, name FROM operator_hold") {
                let (kind, name): (String, String) = (row["kind"], row["name"])
                guard !kept.contains("\(kind)/\(name)") else { continue }
                try db.execute(sql: "DELETE FROM operator_hold WHERE kind = ? AND name = ?", arguments: [kind, name])
            }
            for (kind, name) in rows {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO operator_hold (kind, name, operator, since) VALUES (?, ?, ?, ?)",
                    arguments: [kind, name, operatorName, decision.time])
            }
        }
        observers.current?.decided(decision.action)
    }

    /// What the operator's actions held when the journal was last written (a restarted Manager restores it).
    public func operatorHolds() async throws(ManagerError) -> OperatorHolds {
        try await read("read the operator's holds") { db in
            var holds = OperatorHolds()
            for row in try Row.fetchAll(db, sql: "SELECT kind, name FROM operator_hold") {
                switch row["kind"] as String {
                case "pause": holds.paused = true
                case "drain_host": holds.drainedHosts.insert(row["name"])
                default: continue
                }
            }
            return holds
        }
    }
}
