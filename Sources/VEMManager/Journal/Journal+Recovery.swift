import GRDB
import VEMBus
import VEMProtocol
import VEMCore

/// What a restarted Manager takes back from its journal.
public struct RecoveryPlan: Sendable {
    /// One stream per Client the journal knows: its last incarnation, the last number used, and the commands
    /// without a final state (to be resent to that incarnation, or reported unknown to another).
    public var streams: [RecoveredStream]
    /// Open commands that cannot be resumed (no Client identity, or a hole in the numbering): they are marked
    /// `unknown` at once.
    public var abandoned: [(client: String, seq: UInt64)]
    /// Per Client, the sequence numbers of its streams' commands that have no final state (a stream's tail may
    /// hold final ones too, to keep its numbering contiguous).
    public var open: [String: Set<UInt64>] = [:]
}

extension Journal {
    /// Reads the journal's streams for a restart.
    /// - Throws: ``ManagerError/Code/journal``.
    public func recoveryPlan() async throws(ManagerError) -> RecoveryPlan {
        let (clients, commands) = try await readForRecovery()
        var byClient: [String: [CommandRecord]] = [:]
        for command in commands { byClient[command.client, default: []].append(command) }
        var streams: [RecoveredStream] = []
        var abandoned: [(client: String, seq: UInt64)] = []
        var open: [String: Set<UInt64>] = [:]
        for (name, rows) in byClient where clients[name] == nil {
            abandoned += rows.filter { !$0.state.isFinal }.map { (name, $0.seq) }
        }
        for (name, identity) in clients.sorted(by: { $0.key < $1.key }) {
            let rows = (byClient[name] ?? []).sorted { $0.seq < $1.seq }
            let lastSeq = rows.last?.seq ?? 0
            guard let firstOpen = rows.first(where: { !$0.state.isFinal })?.seq else {
                streams.append(RecoveredStream(identity: identity, startingAfter: lastSeq, commands: []))
                continue
            }
            let tail = rows.filter { $0.seq >= firstOpen }
            let contiguous = tail.enumerated().allSatisfy { $0.element.seq == firstOpen + UInt64($0.offset) }
            if contiguous {
                open[name] = Set(tail.filter { !$0.state.isFinal }.map(\.seq))
                streams.append(
                    RecoveredStream(identity: identity, startingAfter: firstOpen - 1, commands: tail.map(\.command)))
            } else {
                abandoned += tail.filter { !$0.state.isFinal }.map { (name, $0.seq) }
                streams.append(RecoveredStream(identity: identity, startingAfter: lastSeq, commands: []))
            }
        }
        return RecoveryPlan(streams: streams, abandoned: abandoned, open: open)
    }

    private func readForRecovery() async throws(ManagerError) -> ([String: ClientIdentity], [CommandRecord]) {
        do {
            return try await database.read { db in
                var clients: [String: ClientIdentity] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM client") {
                    let role = ClientRole(name: row["role"] as String) ?? .domU
                    let identity = ClientIdentity(
                        name: row["name"], role: role, host: row["host"], group: row["grp"], vmID: row["vm_id"],
                        version: row["version"], incarnation: UInt64(bitPattern: row["incarnation"] as Int64))
                    clients[identity.name] = identity
                }
                let commands = try Row.fetchAll(db, sql: "SELECT * FROM command ORDER BY client, seq")
                    .map(Journal.commandRecord)
                return (clients, commands)
            }
        } catch {
            throw ManagerError(.journal, "journal: cannot read it for recovery: \(error)")
        }
    }
}
