import VEMProtocol

extension ManagerEngine {
    /// The Clients connected now, sorted by name.
    public func members() -> [ClientIdentity] {
        registry.withLock { registry in registry.live.values.map(\.identity) }.sorted { $0.name < $1.name }
    }

    /// Whether the Client of that name is connected now.
    public func isConnected(_ name: String) -> Bool {
        registry.withLock { $0.live[name] != nil }
    }

    /// The names of the Clients connected now, in no particular order: no identity is copied, nothing sorted.
    public func memberNames() -> [String] {
        registry.withLock { Array($0.live.keys) }
    }

    /// Which of `names` are not connected now, in their order (under one lock).
    public func disconnected(among names: [String]) -> [String] {
        registry.withLock { registry in names.filter { registry.live[$0] == nil } }
    }

    /// The sessions addressed by `recipients`.
    func sessions(for recipients: Recipients) -> [ClientSession] {
        registry.withLock { registry in
            switch recipients {
            case .client(let name):
                return registry.live[name].map { [$0] } ?? []
            case .all:
                return Array(registry.live.values)
            case .clients(let names):
                return names.sorted().compactMap { registry.live[$0] }
            case .group:
                return registry.live.values.filter { recipients.includes($0.identity) }
            }
        }
    }

    /// Sends a regular message to the connected Clients addressed (see ``ManagerBus/send(_:to:)``).
    @discardableResult
    public func send(_ message: Message, to recipients: Recipients) -> Int {
        let targets = sessions(for: recipients)
        if targets.count == 1 {
            targets[0].link.transmit([message])
        } else if !targets.isEmpty {
            fanOut(message, targets.map(\.link))
        }
        return targets.count
    }

    /// Submits a command (see ``ManagerBus/submit(_:arguments:to:)``).
    public func submit(_ name: String, arguments: [NamedValue], to client: String) throws(BusError) -> PendingCommand {
        guard let record = registry.withLock({ $0.records[client] }) else {
            throw BusError(.unknownClient, "no client named \(client) ever joined")
        }
        if name.hasPrefix("vm."), record.state.withLock({ $0.identity.role }) != .dom0 {
            throw BusError(.forbidden, "\(name) goes to a dom0 client only; \(client) is not one")
        }
        var effects = StreamEffects()
        let (pending, link) = record.state.withLock { state in
            let submission = state.stream.onSubmit(name: name, arguments: arguments)
            let pending = PendingCommand(client: client, seq: submission.seq)
            state.waiters[submission.seq] = pending
            effects.take(submission.directives, from: &state)
            return (pending, state.session?.link)
        }
        effects.perform(on: link)
        return pending
    }

    /// A Client's command stream position and session, for diagnostics (nil for a name that never joined).
    /// - Parameter client: The Client's name.
    public func streamDescription(of client: String) -> String? {
        guard let record = registry.withLock({ $0.records[client] }) else { return nil }
        return record.state.withLock { "session=\($0.session != nil) \($0.stream)" }
    }

    /// Gives up on a Client's incarnation (it will not come back): its commands without a result become
    /// `.unknown` (unsent ones follow the unsent policy). A connected Client is disconnected first.
    /// - Parameter client: The Client's name.
    public func forget(_ client: String) {
        guard let record = registry.withLock({ $0.records[client] }) else { return }
        var effects = StreamEffects()
        let session: ClientSession? = record.state.withLock { state in
            let session = state.session
            state.session = nil
            effects.take(state.stream.onClientLeft(), from: &state)
            return session
        }
        if let session {
            registry.withLock { registry in
                if registry.live[client] === session { registry.live[client] = nil }
            }
            session.link.close(reason: "forgotten by the manager")
            continuation.yield(.disconnect(name: client, reason: "forgotten by the manager"))
        }
        effects.perform(on: nil)
    }

    /// A property round (see ``ManagerBus/collectProperties(_:from:timeout:)``).
    /// `onReply`, when given, is called with each reply as it arrives (off the round's lock, on the transport's
    /// thread: it must not block), before the round's result gathers them all.
    public func collectProperties(
        _ names: [String], from recipients: Recipients, timeout: Duration,
        onReply: (@Sendable (String, PropertyReport) -> Void)? = nil
    ) async -> PropertyRoundResult {
        let targets = sessions(for: recipients)
        let id = rounds.withLock { $0.open(expecting: Set(targets.map(\.identity.name)), observer: onReply) }
        if !targets.isEmpty {
            let request = Message.getProperty(GetProperty(requestID: id, names: names))
            if targets.count == 1 { targets[0].link.transmit([request]) } else { fanOut(request, targets.map(\.link)) }
        }
        if let scheduler {
            // The transport's timer: no task to start, cancel and join beside every round.
            scheduler(timeout) { self.finishRound(id) }
            return await withTaskCancellationHandler {
                await waitForRound(id)
            } onCancel: {
                self.finishRound(id)
            }
        }
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.finishRound(id)
            }
            let result = await waitForRound(id)
            group.cancelAll()
            return result
        }
    }

    private func waitForRound(_ id: UInt64) async -> PropertyRoundResult {
        await withCheckedContinuation { continuation in
            if let ready = rounds.withLock({ $0.attach(continuation, to: id) }) {
                continuation.resume(returning: ready)
            }
        }
    }

    private func finishRound(_ id: UInt64) {
        if let (continuation, result) = rounds.withLock({ $0.finish(id) }) {
            continuation.resume(returning: result)
        }
    }

    /// Repairs losses within connections: every connected stream resends what is unacknowledged. Over TCP this
    /// is optional; the in-memory bus with dropped messages needs it, and NATS (at most once) calls it every
    /// heartbeat interval.
    /// - Parameter unresolvedOnly: Skips streams with no command awaiting its result (their lost `result_ack`s
    ///   are repaired by the Client, whose resent result is acknowledged again), so an idle site sends nothing.
    public func retransmit(unresolvedOnly: Bool = false) {
        let records = registry.withLock { Array($0.records.values) }
        for record in records {
            var effects = StreamEffects()
            let link = record.state.withLock { state -> (any ManagerLink)? in
                if unresolvedOnly && state.stream.unresolvedCount == 0 { return nil }
                effects.take(state.stream.onRetransmitTimer(), from: &state)
                return state.session?.link
            }
            effects.perform(on: link)
        }
    }
}
