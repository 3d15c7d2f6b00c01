import PropertyBased
import Testing
import VEMProtocol

typealias ManagerSide = CommandStream.ManagerSide
typealias ClientSide = CommandStream.ClientSide

/// Transitions of the two instances, driven directly as pure values.
@Suite struct CommandStreamTests {
    let hello = Hello(name: "h", role: .dom0, host: "h", version: "1", incarnation: 1, token: "t")
    let welcome = Welcome(managerIncarnation: 9, heartbeatIntervalMilliseconds: 500)

    func commands(_ directives: [ManagerSide.Directive]) -> [UInt64] {
        directives.compactMap { if case .transmit(.command(let c)) = $0 { c.seq } else { nil } }
    }

    func sentWelcome(_ directives: [ManagerSide.Directive]) -> Welcome? {
        directives.lazy.compactMap { if case .transmit(.welcome(let w)) = $0 { w } else { nil } }.first
    }

    func executed(_ directives: [ClientSide.Directive]) -> [UInt64] {
        directives.compactMap { if case .execute(let c) = $0 { c.seq } else { nil } }
    }

    @Test func queuesWhileDisconnectedAndSendsWithinTheWindow() {
        var m = ManagerSide(configuration: .init(window: 2))
        #expect(m.onSubmit(name: "a").directives.isEmpty)
        #expect(m.onSubmit(name: "b").seq == 2)
        _ = m.onSubmit(name: "c")
        let up = m.onConnected(hello: hello, welcome: welcome)
        #expect(sentWelcome(up)?.resumed == false)
        #expect(sentWelcome(up)?.commandBase == 0)
        #expect(commands(up) == [1, 2])
        #expect(m.unsentCount == 1)
        #expect(commands(m.onCommandAck(CommandAck(through: 1))) == [3])
        #expect(m.onCommandAck(CommandAck(through: 99)).isEmpty)  // clamped to what was sent
        #expect(m.acknowledgedThrough == 3)
    }

    @Test func resendsUnacknowledgedOnReconnectOfTheSameIncarnation() {
        var m = ManagerSide()
        _ = m.onConnected(hello: hello, welcome: welcome)
        for name in ["a", "b", "c"] { _ = m.onSubmit(name: name) }
        _ = m.onCommandAck(CommandAck(through: 1))
        _ = m.onDisconnected()
        var again = hello
        again.lastExecutedSeq = 2
        let up = m.onConnected(hello: again, welcome: welcome)
        #expect(sentWelcome(up)?.resumed == true)
        #expect(commands(up) == [3])
        #expect(!up.contains { if case .outcomeUnknown = $0 { true } else { false } })
    }

    @Test func deliversEachResultOnceAndConfirmsIt() {
        var m = ManagerSide()
        _ = m.onConnected(hello: hello, welcome: welcome)
        _ = m.onSubmit(name: "a")
        _ = m.onSubmit(name: "b")
        let result = CommandResult(seq: 2, status: .ok, output: "x")
        let first = m.onCommandResult(result)
        #expect(first.first == .deliverResult(seq: 2, result))
        #expect(first.contains(.transmit(.resultAck(ResultAck(through: 0, above: [2])))))
        let again = m.onCommandResult(result)
        #expect(!again.contains { if case .deliverResult = $0 { true } else { false } })
        #expect(again.contains(.transmit(.resultAck(ResultAck(through: 0, above: [2])))))
        #expect(m.onCommandResult(CommandResult(seq: 77, status: .ok)).isEmpty)  // never sent
        _ = m.onCommandResult(CommandResult(seq: 1, status: .failed))
        #expect(m.unresolvedCount == 0)
        #expect(m.onRetransmitTimer() == [.transmit(.resultAck(ResultAck(through: 2)))])
    }

    @Test func confirmsAResultOnlyOnceItIsStored() {
        var m = ManagerSide(configuration: .init(resultConfirmation: .whenStored))
        _ = m.onConnected(hello: hello, welcome: welcome)
        _ = m.onSubmit(name: "a")
        _ = m.onSubmit(name: "b")
        let result = CommandResult(seq: 1, status: .ok)
        let first = m.onCommandResult(result)
        #expect(first == [.deliverResult(seq: 1, result)])
        #expect(m.unstoredCount == 1)
        // The Client resends it (a retransmission, a reconnect): not delivered again, still not confirmed.
        #expect(m.onCommandResult(result) == [.transmit(.resultAck(ResultAck(through: 0)))])
        _ = m.onDisconnected()
        var again = hello
        again.lastExecutedSeq = 2
        #expect(sentWelcome(m.onConnected(hello: again, welcome: welcome))?.resultsReceivedThrough == 0)
        #expect(m.onResultsStored([1]) == [.transmit(.resultAck(ResultAck(through: 1)))])
        #expect(m.onResultsStored([1]).isEmpty)  // already confirmed
        #expect(m.unstoredCount == 0)
        _ = m.onCommandResult(CommandResult(seq: 2, status: .ok))
        _ = m.onClientLeft()
        #expect(m.onResultsStored([2]).isEmpty)  // the incarnation ended: nothing to confirm to anyone
    }

    @Test func newIncarnationEndsSentCommandsAndKeepsUnsentOnes() {
        var m = ManagerSide(configuration: .init(window: 2))
        _ = m.onConnected(hello: hello, welcome: welcome)
        for name in ["a", "b", "c", "d"] { _ = m.onSubmit(name: name) }
        _ = m.onCommandResult(CommandResult(seq: 1, status: .ok))  // 1 resolved, 2 and 3 in flight, 4 unsent
        #expect(m.highestSent == 3)
        _ = m.onDisconnected()
        var reborn = hello
        reborn.incarnation = 2
        let up = m.onConnected(hello: reborn, welcome: welcome)
        #expect(Array(up.prefix(2)) == [.outcomeUnknown(seq: 2), .outcomeUnknown(seq: 3)])
        #expect(sentWelcome(up)?.resumed == false)
        #expect(sentWelcome(up)?.commandBase == 3)
        #expect(commands(up) == [4])
    }

    @Test func cancelPolicyReportsUnsentCommands() {
        var m = ManagerSide(configuration: .init(window: 1, unsentPolicy: .cancel))
        _ = m.onSubmit(name: "queued before the first hello")
        #expect(commands(m.onConnected(hello: hello, welcome: welcome)) == [1])  // the first hello cancels nothing
        _ = m.onSubmit(name: "b")
        let gone = m.onClientLeft()
        #expect(gone == [.outcomeUnknown(seq: 1), .cancelled(seq: 2)])
        let up = m.onConnected(hello: hello, welcome: welcome)  // same number, but the Client had left
        #expect(sentWelcome(up)?.resumed == false)
        #expect(sentWelcome(up)?.commandBase == 2)
        #expect(m.onSubmit(name: "c").seq == 3)
    }

    @Test func clientExecutesInOrderOnceAndWaitsAtGaps() {
        var c = ClientSide(incarnation: 5)
        #expect(c.onConnected(hello: hello).first == .transmit(.hello(Hello(
            name: "h", role: .dom0, host: "h", version: "1", incarnation: 5, token: "t"))))
        #expect(c.onCommand(Command(seq: 1, name: "early")).isEmpty)  // before welcome: ignored
        _ = c.onWelcome(Welcome(managerIncarnation: 9, heartbeatIntervalMilliseconds: 1, commandBase: 10))
        #expect(executed(c.onCommand(Command(seq: 12, name: "b"))).isEmpty)
        #expect(executed(c.onCommand(Command(seq: 13, name: "c"))).isEmpty)
        let run = c.onCommand(Command(seq: 11, name: "a"))
        #expect(executed(run) == [11, 12, 13])
        #expect(run.last == .transmit(.commandAck(CommandAck(through: 13))))
        #expect(c.onCommand(Command(seq: 12, name: "b")) == [.transmit(.commandAck(CommandAck(through: 13)))])
    }

    /// Over NATS the Manager's threads publish independently: a command submitted right after a `hello` was
    /// admitted can reach the Client before that `welcome` (seen: the command was dropped and nothing resent it).
    @Test func aCommandThatOvertakesTheWelcomeIsKeptForIt() {
        var c = ClientSide(incarnation: 5)
        _ = c.onConnected(hello: hello)
        #expect(c.onCommand(Command(seq: 11, name: "first of the new stream")).isEmpty)
        let fresh = c.onWelcome(Welcome(managerIncarnation: 9, heartbeatIntervalMilliseconds: 1, commandBase: 10))
        #expect(executed(fresh) == [11])
        #expect(fresh.last == .transmit(.commandAck(CommandAck(through: 11))))

        // A resumed stream: the reconnect's welcome resends 12, and 13 (submitted meanwhile) overtook it.
        _ = c.onDisconnected()
        _ = c.onConnected(hello: hello)
        #expect(c.onCommand(Command(seq: 13, name: "overtook")).isEmpty)
        var resumed = Welcome(managerIncarnation: 9, heartbeatIntervalMilliseconds: 1, commandBase: 10)
        resumed.resumed = true
        #expect(executed(c.onWelcome(resumed)).isEmpty)  // 12 is still missing: 13 waits
        #expect(executed(c.onCommand(Command(seq: 12, name: "resent"))) == [12, 13])
    }

    @Test func commandsKeptBeyondAGapAreDroppedAtReconnectAndComeAgain() {
        var c = ClientSide(incarnation: 5)
        _ = c.onConnected(hello: hello)
        _ = c.onWelcome(Welcome(managerIncarnation: 9, heartbeatIntervalMilliseconds: 1, commandBase: 0))
        #expect(executed(c.onCommand(Command(seq: 2, name: "beyond a gap"))).isEmpty)
        _ = c.onDisconnected()
        #expect(c.onCommand(Command(seq: 1, name: "late, no connection")).isEmpty)
        _ = c.onConnected(hello: hello)
        var resumed = Welcome(managerIncarnation: 9, heartbeatIntervalMilliseconds: 1, commandBase: 0)
        resumed.resumed = true
        #expect(executed(c.onWelcome(resumed)).isEmpty)
        #expect(executed(c.onCommand(Command(seq: 2, name: "resent"))).isEmpty)
        #expect(executed(c.onCommand(Command(seq: 1, name: "resent"))) == [1, 2])
    }

    @Test func clientHoldsResultsUntilConfirmedAndResendsThem() {
        var c = ClientSide(incarnation: 5)
        _ = c.onConnected(hello: hello)
        _ = c.onWelcome(welcome)
        _ = c.onCommand(Command(seq: 1, name: "a"))
        _ = c.onCommand(Command(seq: 2, name: "b"))
        _ = c.onDisconnected()
        #expect(c.onCommandFinished(CommandResult(seq: 1, status: .ok)).isEmpty)  // offline: held
        #expect(c.onCommandFinished(CommandResult(seq: 9, status: .ok)).isEmpty)  // never executed: ignored
        _ = c.onCommandFinished(CommandResult(seq: 2, status: .ok))
        #expect(c.heldResults == [1, 2])
        let hi = c.onConnected(hello: hello)
        if case .transmit(.hello(let h)) = hi.first {
            #expect(h.lastExecutedSeq == 2)
            #expect(h.heldResults == [1, 2])
        }
        var resumed = welcome
        resumed.resumed = true
        resumed.resultsReceivedThrough = 1
        let back = c.onWelcome(resumed)
        #expect(back.contains(.transmit(.commandResult(CommandResult(seq: 2, status: .ok)))))
        #expect(!back.contains(.transmit(.commandResult(CommandResult(seq: 1, status: .ok)))))
        #expect(c.onWelcome(Welcome(managerIncarnation: 1, heartbeatIntervalMilliseconds: 1)).isEmpty)  // duplicate
        _ = c.onResultAck(ResultAck(through: 2))
        #expect(c.heldResults.isEmpty)
    }

    @Test func clientRestartsTheStreamWhenTheManagerDoesNotResume() {
        var c = ClientSide(incarnation: 5)
        _ = c.onConnected(hello: hello)
        _ = c.onWelcome(welcome)
        _ = c.onCommand(Command(seq: 1, name: "a"))
        _ = c.onCommandFinished(CommandResult(seq: 1, status: .ok))
        _ = c.onDisconnected()
        _ = c.onConnected(hello: hello)
        _ = c.onWelcome(Welcome(managerIncarnation: 10, heartbeatIntervalMilliseconds: 1, resumed: false))
        #expect(c.lastExecutedSeq == 0)
        #expect(c.heldResults.isEmpty)
        #expect(executed(c.onCommand(Command(seq: 1, name: "new a"))) == [1])
    }

    // MARK: The contract under random schedules

    /// 10,000 seeded schedules (seeds 0..<10,000: reproducible) of drops, duplicates, reorders, disconnects,
    /// reconnects, retransmit timers and Client restarts, each followed by a healed network.
    @Test func contractHoldsForTenThousandSeededSchedules() {
        var failures: [(UInt64, [String])] = []
        var total = StreamSimulation.Coverage()
        for seed in UInt64(0)..<10_000 {
            let (violations, coverage) = StreamSimulation.run(seed: seed)
            total = total + coverage
            if !violations.isEmpty { failures.append((seed, violations)) }
            if failures.count >= 3 { break }
        }
        for (seed, violations) in failures {
            Issue.record("seed \(seed): \(violations.prefix(5).joined(separator: "; "))")
        }
        // The schedules really exercise every kind of trouble and every kind of outcome.
        for (name, count) in [
            ("drops", total.drops), ("duplicates", total.duplicates), ("reorders", total.reorders),
            ("disconnects", total.disconnects), ("restarts", total.restarts), ("timers", total.timers),
            ("results", total.results), ("unknowns", total.unknowns), ("cancels", total.cancels),
        ] {
            #expect(count > 1_000, "only \(count) \(name) in 10,000 schedules")
        }
        print("10,000 schedules:", total)
    }

    /// Fresh random seeds every run (PropertyBased prints a `.fixedSeed` to replay a failure), longer schedules.
    @Test func contractHoldsForRandomSchedules() async {
        await propertyCheck(count: 1_000, input: Gen<UInt64>.value(in: 0...UInt64.max)) { seed in
            let violations = StreamSimulation.run(seed: seed, steps: 200, maxCommands: 25).violations
            #expect(violations.isEmpty, "seed \(seed): \(violations.prefix(5).joined(separator: "; "))")
        }
    }

    /// Arbitrary messages and events (including a misbehaving peer: huge sequence numbers, bogus acks and
    /// welcomes) never trap either instance, and a Client never executes out of order between two stream starts.
    @Test func instancesSurviveArbitraryInput() {
        var rng = SplitMix64(seed: 99)
        let hello = self.hello
        for _ in 0..<300 {
            var m = ManagerSide(configuration: .init(window: Int.random(in: 1...8, using: &rng)))
            var c = ClientSide(incarnation: rng.next(), configuration: .init(maximumBufferedCommands: 8))
            var lastExecuted: UInt64?
            for _ in 0..<60 {
                var clientOut: [ClientSide.Directive] = []
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: _ = m.onSubmit(name: "x")
                case 1:
                    var h = hello
                    h.incarnation = UInt64.random(in: 0...2, using: &rng)
                    h.lastExecutedSeq = RandomMessages.uint64(&rng)
                    _ = m.onConnected(hello: h, welcome: welcome)
                case 2: _ = [m.onDisconnected(), m.onClientLeft(), m.onRetransmitTimer()].randomElement(using: &rng)
                case 3: _ = m.onMessage(RandomMessages.message(&rng))
                case 4: _ = m.onMessage(RandomMessages.message(of: .commandResult, &rng))
                case 5: clientOut = Bool.random(using: &rng) ? c.onConnected(hello: hello) : c.onDisconnected()
                case 6: clientOut = c.onMessage(RandomMessages.message(&rng))
                case 7:
                    let type: MessageType = [.command, .welcome, .resultAck].randomElement(using: &rng)!
                    let message = RandomMessages.message(of: type, &rng)
                    if case .welcome(let w) = message, !w.resumed || c.lastExecutedSeq == 0 { lastExecuted = nil }
                    clientOut = c.onMessage(message)
                case 8:
                    clientOut = c.onCommandFinished(
                        CommandResult(seq: UInt64.random(in: 0...40, using: &rng), status: .ok))
                default: clientOut = c.onRetransmitTimer()
                }
                for case .execute(let command) in clientOut {
                    if let last = lastExecuted { #expect(command.seq == last &+ 1) }
                    lastExecuted = command.seq
                }
            }
        }
    }

    /// The simulation itself can fail: a Client that executes duplicates is caught.
    @Test func simulationCatchesADuplicateExecution() {
        var sim = StreamSimulation(seed: 1)
        sim.submit()
        sim.apply([CommandStream.ClientSide.Directive.execute(Command(seq: 1, name: "cmd0"))])
        sim.apply([CommandStream.ClientSide.Directive.execute(Command(seq: 1, name: "cmd0"))])
        #expect(sim.violations.first?.contains("executed again") == true)
    }
}
