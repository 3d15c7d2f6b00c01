import Synchronization
import Testing
import VEMProtocol

@testable import VEMBus
@testable import VEMTestKit

/// The in-memory bus's fault hooks.
@Suite("In-memory bus", .timeLimit(.minutes(1)))
struct InMemoryBusTests {
    @Test func faultScheduleIsDeterministicPerSeed() {
        func schedule(seed: UInt64) -> [Int] {
            let network = InMemoryNetwork(
                faults: .init(seed: seed, dropRate: 0.1, duplicateRate: 0.1, delayRate: 0.1, maximumDelay: 5))
            let delivered = Mutex<[Int]>([])
            for i in 0..<1_000 {
                network.send(.event(Event(kind: "e"))) { delivered.withLock { $0.append(i) } }
            }
            network.releaseDelayed()
            return delivered.withLock { $0 }
        }
        let first = schedule(seed: 11)
        #expect(first == schedule(seed: 11))
        #expect(first != schedule(seed: 12))
        #expect(first != Array(0..<1_000))
        let counts = Dictionary(grouping: first, by: { $0 }).mapValues(\.count)
        #expect(counts.count < 1_000, "some dropped")
        #expect(counts.values.contains(2), "some duplicated")
        #expect(first != first.sorted(), "some delayed past later ones")
    }

    @Test func handshakeMessagesAreNeverFaulted() {
        let network = InMemoryNetwork(faults: .init(seed: 1, dropRate: 1))
        let delivered = Mutex(0)
        network.send(.welcome(Welcome(managerIncarnation: 1, heartbeatIntervalMilliseconds: 1))) {
            delivered.withLock { $0 += 1 }
        }
        network.send(.event(Event(kind: "e"))) { delivered.withLock { $0 += 1 } }
        #expect(delivered.withLock { $0 } == 1)
    }

    @Test func commandsSurviveDropsDelaysAndDuplicates() async throws {
        let harness = InMemoryHarness(
            faults: .init(seed: 7, dropRate: 0.15, duplicateRate: 0.1, delayRate: 0.15, maximumDelay: 6))
        var logs: [CommandLog] = []
        var clients: [any TestClient] = []
        for i in 0..<5 {
            let log = CommandLog()
            logs.append(log)
            clients.append(try await harness.startClient(name: "f\(i)", log: log))
        }
        for i in 0..<5 {
            _ = try await harness.events.first("join f\(i)") { if case .join(let id, _) = $0 { id.name == "f\(i)" } else { false } }
        }
        var pending: [[PendingCommand]] = []
        for i in 0..<5 {
            pending.append(try (1...30).map { try harness.bus.submit("cmd-\($0)", arguments: [], to: "f\(i)") })
        }
        // The retransmit timer: repairs what the faults dropped.
        let bus = harness.bus
        let timer = Task {
            while !Task.isCancelled {
                bus.tick()
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        defer { timer.cancel() }
        let outcomes = try await awaitOutcomes(of: pending.flatMap { $0 })
        for i in 0..<5 {
            #expect(outcomes[(i * 30)..<(i * 30 + 30)].allSatisfy { $0.isResult })
            #expect(logs[i].all == (1...30).map { "\($0) cmd-\($0)" }, "f\(i): once each, in order")
        }
        for client in clients { await client.stop() }
    }

    @Test func unsolicitedPropertiesGoToTheMessageHandler() async throws {
        // Delivery is asynchronous when another thread is already draining the in-memory wire (the welcome's
        // deliverer may still be in its loop), so the test waits for the handler instead of reading at once.
        let (received, receiver) = AsyncStream<String>.makeStream()
        let bus = InMemoryBus(
            configuration: .init(admission: Admission(sharedToken: "t")),
            messageHandler: { identity, message in
                if case .property = message { receiver.yield(identity.name) }
            })
        let events = EventRecorder(bus.events)
        let client = bus.makeClient(
            identity: ClientIdentity(name: "p", role: .dom0, host: "h", version: "1.0.0", incarnation: 1), token: "t",
            handlers: loggingHandlers(name: "p", log: CommandLog()))
        let running = RunningClient(memory: client)
        _ = try await running.events.first("welcome") { if case .connected = $0 { true } else { false } }
        try client.send(.property(PropertyReport(readings: [])))
        var senders = received.makeAsyncIterator()
        #expect(await senders.next() == "p")
        #expect(!events.elements.contains { if case .message = $0 { true } else { false } })
        await running.stop()
    }

    @Test func forgettingAClientEndsItsCommands() async throws {
        let bus = InMemoryBus(
            configuration: .init(admission: Admission(sharedToken: "t"), commandStream: .init(unsentPolicy: .cancel)))
        let events = EventRecorder(bus.events)
        let log = CommandLog()
        let client = RunningClient(
            memory: bus.makeClient(
                identity: ClientIdentity(name: "gone", role: .domU, host: "h", version: "1.0.0", incarnation: 4),
                token: "t", handlers: loggingHandlers(name: "gone", log: log)))
        _ = try await events.first("join") { if case .join = $0 { true } else { false } }
        await client.kill()
        _ = try await events.first("disconnect") { if case .disconnect("gone", _) = $0 { true } else { false } }
        let queued = try bus.submit("never-sent", arguments: [], to: "gone")
        bus.engine.forget("gone")
        #expect(await queued.outcome() == .cancelled)
        #expect(log.all.isEmpty)
        #expect(throws: BusError.self) { try bus.submit("x", arguments: [], to: "nobody") }
    }
}
