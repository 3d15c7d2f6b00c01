import GRDB
import Synchronization

/// Group commit of command updates (``Journal/update(client:seq:to:result:at:)``, one per command outcome): the
/// updates asked for while a transaction of them runs wait and go together into the next one, so 2,000 outcomes
/// arriving at once cost a few commits (each one `fsync`), not 2,000. Each caller still gets its own answer
/// (whether its row changed) once the transaction holding its update has committed.
final class UpdateQueue: Sendable {
    struct Item: Sendable {
        var client: String
        var seq: UInt64
        var state: CommandState
        var result: String?
        var time: Double
        var done: CheckedContinuation<Result<Bool, ManagerError>, Never>
    }

    private struct State {
        var items: [Item] = []
        var writing = false
    }

    private let state = Mutex(State())

    /// Queues `item`; whether the caller is to start the writer (none is running).
    func add(_ item: Item) -> Bool {
        state.withLock { state in
            state.items.append(item)
            defer { state.writing = true }
            return !state.writing
        }
    }

    /// How many updates wait for the next transaction (tests).
    var waiting: Int { state.withLock { $0.items.count } }

    /// What is queued now (the writer stops when it is empty).
    func take() -> [Item] {
        state.withLock { state in
            if state.items.isEmpty { state.writing = false }
            defer { state.items = [] }
            return state.items
        }
    }
}

extension Journal {
    /// Writes the queued updates, a transaction at a time, until none is left.
    func writeUpdates() async {
        while true {
            let batch = updates.take()
            guard !batch.isEmpty else { return }
            let rows = batch.map { ($0.state.rawValue, $0.result, $0.time, $0.client, Int64(bitPattern: $0.seq)) }
            do {
                let changed = try await write("update a command") { db in
                    let statement = try db.cachedStatement(
                        sql: """
                            UPDATE command SET state = ?, result = COALESCE(?, result), updated_at = ?
                            WHERE client = ? AND seq = ? AND state IN ('queued', 'sent', 'acknowledged')
                            """)
                    return try rows.map { row in
                        try statement.execute(arguments: [row.0, row.1, row.2, row.3, row.4])
                        return db.changesCount > 0
                    }
                }
                for (item, changed) in zip(batch, changed) { item.done.resume(returning: .success(changed)) }
            } catch {
                for item in batch { item.done.resume(returning: .failure(error)) }
            }
        }
    }
}
