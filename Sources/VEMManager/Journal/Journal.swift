import Foundation
import GRDB
import Logging
import VEMBus
import VEMProtocol

/// The Manager's journal in SQLite (GRDB): every command and its state, the Clients' last identities (to resume
/// their command streams after a restart), VEM's VM inventory and the decision log. Its migrator runs on open.
///
/// All reads and writes are `async`: GRDB runs them on its own serial queue, never on the cooperative pool.
public final class Journal: Sendable {
    let database: DatabaseQueue
    /// Where it is (`:memory:` for an in-memory journal).
    public let path: String
    let onWrite: (@Sendable () -> Void)?
    /// The nice steps below the process its writes run at (``BackgroundPriority``).
    let backgroundNiceness: Int?
    let results: ResultWriter
    let updates = UpdateQueue()
    let observers: JournalObserverSlot

    /// Opens (creating and migrating) a journal.
    /// - Parameters:
    ///   - path: A file, or nil for an in-memory journal (kept only while the process lives).
    ///   - groupCommitWindow: How long a command result waits for others to share its transaction (default
    ///     2 ms; see ``resultObserver(clock:)``).
    ///   - onWrite: Called inside every write transaction before it commits, on the journal's own queue (tests
    ///     slow every write with it). Default nil.
    ///   - backgroundNiceness: The nice steps below the loops' level the writes run at (``BackgroundPriority``;
    ///     the Manager gives 0, the loops' level; default nil: the queue's thread as it is).
    /// - Throws: ``ManagerError/Code/journal``.
    public init(
        path: String?, groupCommitWindow: Duration = .milliseconds(2), onWrite: (@Sendable () -> Void)? = nil,
        backgroundNiceness: Int? = nil
    ) throws(ManagerError) {
        self.backgroundNiceness = backgroundNiceness
        if let path { try Self.makePrivate(path) }
        do {
            var configuration = Configuration()
            configuration.label = "vem.journal"
            if let path {
                // Write-ahead log: a commit appends to the `-wal` file and syncs it once (a rollback journal
                // syncs the journal, the database and its directory); `synchronous = FULL` keeps every commit
                // durable.
                configuration.prepareDatabase { db in
                    _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                }
                database = try DatabaseQueue(path: path, configuration: configuration)
                self.path = path
            } else {
                database = try DatabaseQueue(configuration: configuration)
                self.path = ":memory:"
            }
            try Self.migrator.migrate(database)
        } catch {
            throw ManagerError(.journal, "cannot open the journal \(path ?? ":memory:"): \(error)")
        }
        self.onWrite = onWrite
        let logger = Logger(label: "vem.journal")
        let window = groupCommitWindow.components
        let observers = JournalObserverSlot()
        self.observers = observers
        results = ResultWriter(
            database: database,
            window: .microseconds(Int(window.seconds) * 1_000_000 + Int(window.attoseconds / 1_000_000_000_000)),
            onWrite: onWrite, onError: { logger.error("\($0)") }, observers: observers,
            niceness: backgroundNiceness)
    }

    /// The schema, one migration per version.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE client (
                        name TEXT PRIMARY KEY NOT NULL, role TEXT NOT NULL, host TEXT NOT NULL, grp TEXT,
                        vm_id TEXT, version TEXT NOT NULL, incarnation INTEGER NOT NULL, updated_at REAL NOT NULL);
                    CREATE TABLE command (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, client TEXT NOT NULL, seq INTEGER NOT NULL,
                        name TEXT NOT NULL, arguments TEXT NOT NULL, trigger TEXT, state TEXT NOT NULL,
                        created_at REAL NOT NULL, updated_at REAL NOT NULL, result TEXT, UNIQUE (client, seq));
                    CREATE INDEX command_state ON command (state);
                    CREATE TABLE vm_inventory (
                        name TEXT PRIMARY KEY NOT NULL, grp TEXT, host TEXT, state TEXT NOT NULL,
                        updated_at REAL NOT NULL);
                    CREATE TABLE decision (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, trigger TEXT NOT NULL,
                        action TEXT NOT NULL, reason TEXT NOT NULL);
                    """)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: "ALTER TABLE decision ADD COLUMN vm TEXT; ALTER TABLE decision ADD COLUMN grp TEXT")
        }
        registerInventoryMigrations(&migrator)
        registerOperatorMigrations(&migrator)
        return migrator
    }

    func write<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T)
        async throws(ManagerError) -> T
    {
        let started = ContinuousClock.now
        defer { observers.current?.wrote(what, ContinuousClock.now - started) }
        do {
            return try await database.write { [onWrite, backgroundNiceness] db in
                BackgroundPriority.lowerCurrentThread(by: backgroundNiceness)
                onWrite?()
                return try body(db)
            }
        } catch {
            throw ManagerError(.journal, "journal: cannot \(what): \(error)")
        }
    }

    func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T)
        async throws(ManagerError) -> T
    {
        do {
            return try await database.read(body)
        } catch {
            throw ManagerError(.journal, "journal: cannot \(what): \(error)")
        }
    }

    // MARK: Clients

    /// Records a Client's identity at its join (the incarnation a restarted Manager resumes).
    public func recordClient(_ identity: ClientIdentity, at now: Double) async throws(ManagerError) {
        try await write("record a client") { db in
            try db.execute(
                sql: """
                    INSERT INTO client (name, role, host, grp, vm_id, version, incarnation, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET role = excluded.role, host = excluded.host, grp = excluded.grp,
                      vm_id = excluded.vm_id, version = excluded.version, incarnation = excluded.incarnation,
                      updated_at = excluded.updated_at
                    """,
                arguments: [
                    identity.name, identity.role.name, identity.host, identity.group, identity.vmID, identity.version,
                    Int64(bitPattern: identity.incarnation), now,
                ])
        }
    }

    // MARK: Commands

    /// Journals a command about to be submitted (state `queued`).
    /// - Returns: Its row id.
    public func insertCommand(
        client: String, seq: UInt64, name: String, arguments: [NamedValue], trigger: String?, at now: Double
    ) async throws(ManagerError) -> Int64 {
        let stored = String(decoding: (try? JSONEncoder().encode(arguments.map(StoredArgument.init))) ?? Data("[]".utf8), as: UTF8.self)
        return try await write("journal a command") { db in
            try db.execute(
                sql: """
                    INSERT INTO command (client, seq, name, arguments, trigger, state, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)
                    """,
                arguments: [client, Int64(bitPattern: seq), name, stored, trigger, now, now])
            return db.lastInsertedRowID
        }
    }

    /// Moves an open command to `state` (a final state is never changed again). Updates asked for at the same time
    /// share a transaction (group commit, ``UpdateQueue``); this returns once the one holding this update committed.
    /// - Returns: Whether a row changed.
    @discardableResult
    public func update(
        client: String, seq: UInt64, to state: CommandState, result: String? = nil, at now: Double
    ) async throws(ManagerError) -> Bool {
        let outcome = await withCheckedContinuation { (done: CheckedContinuation<Result<Bool, ManagerError>, Never>) in
            let item = UpdateQueue.Item(client: client, seq: seq, state: state, result: result, time: now, done: done)
            if updates.add(item) { Task { await self.writeUpdates() } }
        }
        return try outcome.get()
    }

    /// A ``VEMBus/ManagerEngine/Configuration/resultObserver`` that journals every result before the bus lets the
    /// Client forget it, so a Manager killed at any moment loses no result. Results are written off the
    /// transport's threads, with group commit: those arriving within `groupCommitWindow` of each other (or while
    /// the previous transaction runs) share one transaction, and each is confirmed once that transaction commits.
    public func resultObserver(clock: any ManagerClock) -> ManagerEngine.ResultStore {
        { [results] client, result, stored in
            results.enqueue(client: client, result: result, at: clock.now(), stored: stored)
        }
    }

    /// Marks open commands of `client` with `seq <= through` as acknowledged.
    public func acknowledge(client: String, through: UInt64, at now: Double) async throws(ManagerError) {
        try await write("acknowledge commands") { db in
            try db.execute(
                sql: """
                    UPDATE command SET state = 'acknowledged', updated_at = ?
                    WHERE client = ? AND seq <= ? AND state IN ('queued', 'sent')
                    """,
                arguments: [now, client, Int64(bitPattern: through)])
        }
    }

    /// The most recent commands, newest first.
    public func recentCommands(limit: Int = 100) async throws(ManagerError) -> [CommandRecord] {
        try await read("read commands") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM command ORDER BY id DESC LIMIT ?", arguments: [limit])
                .map(Self.commandRecord)
        }
    }

    /// Every command, oldest first (for tests and audits).
    public func allCommands() async throws(ManagerError) -> [CommandRecord] {
        try await read("read commands") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM command ORDER BY id").map(Self.commandRecord)
        }
    }

    /// How many commands are in each state.
    public func commandCounts() async throws(ManagerError) -> [String: Int] {
        try await read("count commands") { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM command GROUP BY state") {
                counts[row["state"] as String] = row["n"] as Int
            }
            return counts
        }
    }

    static func commandRecord(_ row: Row) -> CommandRecord {
        let arguments = (try? JSONDecoder().decode([StoredArgument].self, from: Data((row["arguments"] as String).utf8))) ?? []
        return CommandRecord(
            id: row["id"], client: row["client"], seq: UInt64(bitPattern: row["seq"] as Int64), name: row["name"],
            arguments: arguments, trigger: row["trigger"],
            state: CommandState(rawValue: row["state"] as String) ?? .unknown, createdAt: row["created_at"],
            updatedAt: row["updated_at"], result: row["result"])
    }

    // MARK: Decisions and inventory

    /// Appends to the decision log.
    public func recordDecision(_ decision: DecisionRecord) async throws(ManagerError) {
        try await write("record a decision") { db in
            try db.execute(
                sql: "INSERT INTO decision (time, trigger, action, reason, vm, grp) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    decision.time, decision.trigger, decision.action, decision.reason, decision.vm, decision.group,
                ])
        }
        observers.current?.decided(decision.action)
    }

    /// The most recent decisions, newest first.
    public func recentDecisions(limit: Int = 100) async throws(ManagerError) -> [DecisionRecord] {
        try await read("read decisions") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM decision ORDER BY id DESC LIMIT ?", arguments: [limit])
                .map(Self.decisionRecord)
        }
    }

    /// Every VM name a decision mentions (in any order): the names given out so far, reserved after a restart.
    public func decidedVMs() async throws(ManagerError) -> [String] {
        try await read("read decided VMs") { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT vm FROM decision WHERE vm IS NOT NULL")
        }
    }

    /// The most recent decisions about a VM or a group (`name` matches either), newest first.
    public func decisions(about name: String, limit: Int = 100) async throws(ManagerError) -> [DecisionRecord] {
        try await read("read decisions") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM decision WHERE vm = ? OR grp = ? ORDER BY id DESC LIMIT ?",
                arguments: [name, name, limit]
            ).map(Self.decisionRecord)
        }
    }

    static func decisionRecord(_ row: Row) -> DecisionRecord {
        DecisionRecord(
            time: row["time"], trigger: row["trigger"], action: row["action"], reason: row["reason"], vm: row["vm"],
            group: row["grp"])
    }
}
