import GRDB

extension Journal {
    /// What ``prune(before:)`` deleted.
    public struct Pruned: Hashable, Sendable {
        /// Decisions deleted.
        public var decisions = 0
        /// Commands deleted.
        public var commands = 0

        /// Counts.
        public init(decisions: Int = 0, commands: Int = 0) {
            self.decisions = decisions
            self.commands = commands
        }
    }

    /// Deletes decisions older than `time` and commands that ended before it, keeping what a restart needs:
    /// a Client's newest command (its stream resumes after that number) and every command from its first open
    /// one on (the open tail is resent in order).
    public func prune(before time: Double) async throws(ManagerError) -> Pruned {
        try await write("prune") { db in
            var pruned = Pruned()
            try db.execute(sql: "DELETE FROM decision WHERE time < ?", arguments: [time])
            pruned.decisions = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM command
                    WHERE state IN ('done', 'failed', 'unknown') AND updated_at < ?
                      AND id NOT IN (SELECT MAX(id) FROM command GROUP BY client)
                      AND seq < COALESCE(
                          (SELECT MIN(open.seq) FROM command AS open
                           WHERE open.client = command.client AND open.state NOT IN ('done', 'failed', 'unknown')),
                          9223372036854775807)
                    """, arguments: [time])
            pruned.commands = db.changesCount
            return pruned
        }
    }
}
