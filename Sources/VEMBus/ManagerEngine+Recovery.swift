import VEMProtocol

/// One Client's command stream as a Manager's journal recorded it, to seed the engine after a restart.
public struct RecoveredStream: Sendable {
    /// The Client as last seen (its incarnation decides whether a reconnect resumes the stream).
    public var identity: ClientIdentity
    /// Every sequence number `<= startingAfter` has an outcome (or belongs to an ended stream): never reused.
    public var startingAfter: UInt64
    /// The commands numbered `startingAfter + 1, + 2, …` (contiguous, in order) that may have been sent to the
    /// Client's incarnation and have no outcome the journal knows of. Commands whose outcome the journal does
    /// know may appear too, to keep the numbering contiguous; the Client de-duplicates them by `seq`.
    public var commands: [Command]

    /// Creates a recovered stream.
    public init(identity: ClientIdentity, startingAfter: UInt64, commands: [Command]) {
        self.identity = identity
        self.startingAfter = startingAfter
        self.commands = commands
    }
}

extension ManagerEngine {
    /// Seeds a Client's command stream from a journal, before that Client connects to this (restarted) Manager.
    ///
    /// The recovered commands count as sent to ``RecoveredStream/identity``'s incarnation (a crash may have
    /// happened just after they were transmitted). When that incarnation reconnects, the stream resumes: what it
    /// has not executed is resent under the same sequence numbers, and its held results are delivered. When
    /// another incarnation connects (or the Client leaves), they become ``CommandOutcome/unknown`` — they may
    /// have run — and are never sent again. New commands are numbered after the recovered ones.
    /// - Parameter stream: The journal's view of the stream.
    /// - Returns: One pending command per recovered command, in order (outcomes arrive as for ``submit``).
    /// - Throws: ``BusError/Code/transport`` when the Client is already known to this engine or the numbering is
    ///   not contiguous.
    public func restore(_ stream: RecoveredStream) throws(BusError) -> [PendingCommand] {
        let identity = stream.identity
        for (offset, command) in stream.commands.enumerated()
        where command.seq != stream.startingAfter + UInt64(offset) + 1 {
            throw BusError(.transport, "recovered commands of \(identity.name) are not numbered contiguously")
        }
        var tuning = streamConfiguration
        tuning.window = max(tuning.window, stream.commands.count)
        var side = CommandStream.ManagerSide(configuration: tuning, startingAfter: stream.startingAfter)
        // A session that never existed: it sets the incarnation and marks the recovered commands as sent.
        var hello = identity.hello(token: "")
        hello.lastExecutedSeq = stream.startingAfter
        _ = side.onConnected(
            hello: hello, welcome: Welcome(managerIncarnation: configuration.managerIncarnation, heartbeatIntervalMilliseconds: 0))
        var pendings: [PendingCommand] = []
        for command in stream.commands {
            let submission = side.onSubmit(name: command.name, arguments: command.arguments)
            pendings.append(PendingCommand(client: identity.name, seq: submission.seq))
        }
        _ = side.onDisconnected()
        let record = ClientRecord(identity: identity, stream: side)
        record.state.withLock { state in
            for pending in pendings { state.waiters[pending.seq] = pending }
        }
        let added = registry.withLock { registry -> Bool in
            guard registry.records[identity.name] == nil else { return false }
            registry.records[identity.name] = record
            return true
        }
        guard added else { throw BusError(.transport, "client \(identity.name) is already known to the engine") }
        return pendings
    }
}

extension ManagerEngine {
    /// The highest sequence number the Client has acknowledged (every command up to it reached its Runner), or nil
    /// for a Client this engine does not know. For a Manager's journal (`acknowledged` state).
    /// - Parameter client: The Client's name.
    public func acknowledgedThrough(_ client: String) -> UInt64? {
        guard let record = registry.withLock({ $0.records[client] }) else { return nil }
        return record.state.withLock { $0.stream.acknowledgedThrough }
    }
}
