import VEMProtocol

/// A simulated Manager ↔ Client link for the reliable command stream: one ``CommandStream/ManagerSide``, one
/// ``CommandStream/ClientSide`` (replaced at every Client restart), two in-flight queues for the current
/// connection, a FIFO Runner, and a random schedule of submits, deliveries, drops, duplicates, reorders,
/// disconnects, reconnects, retransmit timers and restarts. It records every execution and every outcome and
/// checks the contract as it goes (``violations``).
struct StreamSimulation {
    enum Outcome: Equatable {
        case result(CommandResult)
        case unknown
        case cancelled
    }

    var rng: SplitMix64
    var manager: CommandStream.ManagerSide
    var client: CommandStream.ClientSide
    var nextIncarnation: UInt64 = 1000

    // The connection.
    var connected = false
    var hubSawHello = false
    var toClient: [Message] = []
    var toManager: [Message] = []
    var runner: [Command] = []

    // What happened.
    var submitted: [UInt64: String] = [:]
    var submitOrder: [UInt64] = []
    var executedBy: [UInt64: UInt64] = [:]  // seq → incarnation that executed it
    var lastExecutedByIncarnation: [UInt64: UInt64] = [:]
    var outcomes: [UInt64: Outcome] = [:]
    var incarnationEnded = false
    var violations: [String] = []
    var steps = 0
    var coverage = Coverage()

    /// How often each kind of trouble happened (to show the schedules exercise what they claim to).
    struct Coverage {
        var drops = 0, duplicates = 0, reorders = 0, disconnects = 0, restarts = 0, timers = 0
        var results = 0, unknowns = 0, cancels = 0, executions = 0

        static func + (a: Coverage, b: Coverage) -> Coverage {
            Coverage(
                drops: a.drops + b.drops, duplicates: a.duplicates + b.duplicates, reorders: a.reorders + b.reorders,
                disconnects: a.disconnects + b.disconnects, restarts: a.restarts + b.restarts,
                timers: a.timers + b.timers, results: a.results + b.results, unknowns: a.unknowns + b.unknowns,
                cancels: a.cancels + b.cancels, executions: a.executions + b.executions)
        }
    }

    static let template = Hello(name: "host07", role: .dom0, host: "host07", version: "1.0", incarnation: 0, token: "t")
    static let welcome = Welcome(managerIncarnation: 7, heartbeatIntervalMilliseconds: 1000)

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        let window = Int.random(in: 1...5, using: &rng)
        let policy: CommandStream.ManagerSide.Configuration.UnsentPolicy = Bool.random(using: &rng) ? .resend : .cancel
        manager = .init(configuration: .init(window: window, unsentPolicy: policy))
        client = .init(
            incarnation: nextIncarnation,
            configuration: .init(maximumBufferedCommands: Int.random(in: 0...4, using: &rng)))
    }

    mutating func violation(_ text: String) { violations.append("step \(steps): \(text)") }

    // MARK: Applying directives

    mutating func apply(_ directives: [CommandStream.ManagerSide.Directive]) {
        for directive in directives {
            switch directive {
            case .transmit(let message):
                if connected { toClient.append(message) }
            case .deliverResult(let seq, let result):
                if outcomes[seq] != nil { violation("second outcome for \(seq)") }
                if executedBy[seq] == nil { violation("result for \(seq), which was never executed") }
                if result.output != "ran \(submitted[seq] ?? "?")" { violation("result for \(seq) is another's") }
                outcomes[seq] = .result(result)
                coverage.results += 1
            case .outcomeUnknown(let seq):
                if outcomes[seq] != nil { violation("second outcome (unknown) for \(seq)") }
                if submitted[seq] == nil { violation("unknown for unsubmitted \(seq)") }
                outcomes[seq] = .unknown
                coverage.unknowns += 1
            case .cancelled(let seq):
                if outcomes[seq] != nil { violation("second outcome (cancelled) for \(seq)") }
                if executedBy[seq] != nil { violation("cancelled \(seq), which was executed") }
                outcomes[seq] = .cancelled
                coverage.cancels += 1
            }
        }
    }

    mutating func apply(_ directives: [CommandStream.ClientSide.Directive]) {
        let incarnation = client.incarnation
        for directive in directives {
            switch directive {
            case .transmit(let message):
                if connected { toManager.append(message) }
            case .execute(let command):
                if let earlier = executedBy[command.seq] {
                    violation("\(command.seq) executed again (by \(incarnation), first by \(earlier))")
                }
                if case .cancelled? = outcomes[command.seq] { violation("executed cancelled \(command.seq)") }
                if submitted[command.seq] != command.name { violation("\(command.seq) executed with the wrong body") }
                if let last = lastExecutedByIncarnation[incarnation], command.seq != last + 1 {
                    violation("incarnation \(incarnation) executed \(command.seq) after \(last)")
                }
                if let highest = executedBy.keys.max(), command.seq < highest,
                    lastExecutedByIncarnation[incarnation] == nil
                {
                    violation("new incarnation started at \(command.seq), below \(highest)")
                }
                executedBy[command.seq] = incarnation
                lastExecutedByIncarnation[incarnation] = command.seq
                runner.append(command)
                coverage.executions += 1
            }
        }
    }

    // MARK: Events

    mutating func submit() {
        let name = "cmd\(submitOrder.count)"
        let submission = manager.onSubmit(name: name, arguments: [NamedValue("n", .int(Int64(submitOrder.count)))])
        if submitted[submission.seq] != nil { violation("seq \(submission.seq) reused") }
        if let last = submitOrder.last, submission.seq != last + 1 { violation("seq \(submission.seq) not consecutive") }
        submitted[submission.seq] = name
        submitOrder.append(submission.seq)
        apply(submission.directives)
    }

    mutating func connect() {
        guard !connected else { return }
        connected = true
        hubSawHello = false
        apply(client.onConnected(hello: Self.template))
    }

    mutating func disconnect() {
        guard connected else { return }
        connected = false
        coverage.disconnects += 1
        toClient.removeAll()
        toManager.removeAll()
        apply(client.onDisconnected())
        if hubSawHello { apply(manager.onDisconnected()) }
        hubSawHello = false
    }

    /// The Client process dies (its Runner's work with it) and a new one starts; `graceful` = it said bye.
    mutating func restartClient(graceful: Bool) {
        disconnect()
        if graceful { apply(manager.onClientLeft()) }
        runner.removeAll()
        coverage.restarts += 1
        nextIncarnation += 1
        incarnationEnded = true
        client = .init(incarnation: nextIncarnation, configuration: client.configuration)
    }

    mutating func deliverToManager(_ message: Message) {
        if case .hello(let hello) = message {
            guard !hubSawHello else { return }  // the hub takes the first hello of a connection
            hubSawHello = true
            apply(manager.onConnected(hello: hello, welcome: Self.welcome))
        } else if hubSawHello {
            apply(manager.onMessage(message))
        }
    }

    mutating func deliverToClient(_ message: Message) {
        apply(client.onMessage(message))
    }

    mutating func finishRunnerHead() {
        guard !runner.isEmpty else { return }
        let command = runner.removeFirst()
        let status = CommandResult.Status.allCases.randomElement(using: &rng) ?? .ok
        apply(client.onCommandFinished(CommandResult(seq: command.seq, status: status, output: "ran \(command.name)")))
    }

    /// Takes one message from a queue: usually the oldest, sometimes any (reorder).
    mutating func take(toClientQueue: Bool) -> Message? {
        let count = toClientQueue ? toClient.count : toManager.count
        guard count > 0 else { return nil }
        let index = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 0..<count, using: &rng) : 0
        if index != 0 { coverage.reorders += 1 }
        return toClientQueue ? toClient.remove(at: index) : toManager.remove(at: index)
    }

    // MARK: Schedules

    mutating func randomStep(maxCommands: Int) {
        steps += 1
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<12:
            if submitOrder.count < maxCommands { submit() }
        case 12..<42:
            if let m = take(toClientQueue: true) { deliverToClient(m) }
        case 42..<68:
            if let m = take(toClientQueue: false) { deliverToManager(m) }
        case 68..<76:
            finishRunnerHead()
        case 76..<80:  // drop
            if take(toClientQueue: Bool.random(using: &rng)) != nil { coverage.drops += 1 }
        case 80..<84:  // duplicate
            coverage.duplicates += 1
            if Bool.random(using: &rng), let m = toClient.randomElement(using: &rng) {
                toClient.insert(m, at: Int.random(in: 0...toClient.count, using: &rng))
            } else if let m = toManager.randomElement(using: &rng) {
                toManager.insert(m, at: Int.random(in: 0...toManager.count, using: &rng))
            }
        case 84..<89:
            disconnect()
        case 89..<95:
            connect()
        case 95..<97:
            coverage.timers += 1
            if hubSawHello { apply(manager.onRetransmitTimer()) }
            apply(client.onRetransmitTimer())
        case 97:
            restartClient(graceful: Int.random(in: 0..<4, using: &rng) == 0)
        default:
            break
        }
    }

    /// The network heals: a fresh connection, nothing lost or reordered, the Runner finishes everything.
    mutating func heal() {
        disconnect()
        connect()
        var rounds = 0
        while !toClient.isEmpty || !toManager.isEmpty || !runner.isEmpty {
            rounds += 1
            if rounds > 100_000 {
                violation("the healed network did not settle")
                return
            }
            if !toManager.isEmpty {
                deliverToManager(toManager.removeFirst())
            } else if !toClient.isEmpty {
                deliverToClient(toClient.removeFirst())
            } else {
                finishRunnerHead()
            }
        }
    }

    /// The end-of-schedule checks.
    mutating func checkSettled() {
        for seq in submitOrder where outcomes[seq] == nil {
            violation("command \(seq) never got an outcome")
        }
        if outcomes.count != submitOrder.count { violation("\(outcomes.count) outcomes for \(submitOrder.count) commands") }
        if !incarnationEnded {
            for (seq, outcome) in outcomes {
                if case .result = outcome { continue }
                violation("command \(seq) lost without a restart: \(outcome)")
            }
        }
        if manager.unresolvedCount != 0 { violation("manager still has \(manager.unresolvedCount) unresolved") }
        if !client.heldResults.isEmpty { violation("client still holds \(client.heldResults)") }
    }

    /// Runs one whole random schedule; returns the violations and what the schedule exercised.
    static func run(seed: UInt64, steps: Int = 80, maxCommands: Int = 12) -> (violations: [String], coverage: Coverage) {
        var sim = StreamSimulation(seed: seed)
        let length = Int.random(in: steps / 2...steps, using: &sim.rng)
        for _ in 0..<length { sim.randomStep(maxCommands: maxCommands) }
        sim.heal()
        // Commands submitted after the heal must flow too.
        sim.submit()
        sim.heal()
        sim.checkSettled()
        return (sim.violations, sim.coverage)
    }
}
