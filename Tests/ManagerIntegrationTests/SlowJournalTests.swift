import Dispatch
import Logging
import NIOPosix
import Synchronization
import Testing
import VEMBench
import VEMBus
import VEMHub
import VEMManager
import VEMProtocol

/// The journal writes command results off the hub's event loops, with group commit: a journal slowed by 50 ms per
/// write leaves the hub's heartbeats and a 1,000-Client property round as they are with a fast journal, and every
/// result is still journaled before its Client is told to forget it.
@Suite(.serialized) struct SlowJournalTests {
    static let clients = 1_000
    /// At least this many waves, and for at least two heartbeat intervals.
    static let minimumWaves = 3
    /// The hub's usual interval (a silent Client is dropped after 1.5 intervals).
    static let heartbeat = Duration.seconds(5)
    static let token = "slow-journal"

    struct Figures {
        /// The median time of a property round of every Client, taken while results stream into the journal.
        var round: Double
        /// The largest gap between two of the hub's heartbeats to an idle Client.
        var heartbeatGap: Double
        /// Clients the hub lost.
        var disconnects: Int
        /// Write transactions for the results.
        var transactions: Int
        /// Results journaled.
        var results: Int
    }

    @Test func aJournalSlowedBy50msPerWriteDoesNotSlowTheHub() async throws {
        let usual = try await measure(slowWrites: false)
        let slowed = try await measure(slowWrites: true)
        print(
            "slow journal: median round \(usual.round) s → \(slowed.round) s, largest heartbeat gap "
                + "\(usual.heartbeatGap) s → \(slowed.heartbeatGap) s, \(slowed.results) results in "
                + "\(slowed.transactions) transactions of 50 ms")
        #expect(slowed.disconnects == 0 && usual.disconnects == 0)
        #expect(slowed.round <= usual.round * 3 + 0.25, "the round took \(slowed.round) s (usually \(usual.round) s)")
        #expect(
            slowed.heartbeatGap <= usual.heartbeatGap + 0.5,
            "heartbeats \(slowed.heartbeatGap) s apart (usually \(usual.heartbeatGap) s)")
        // One transaction per result would be 50 ms each: they were grouped.
        #expect(slowed.transactions * 20 <= slowed.results)
    }

    /// Runs the hub with `clients` simulated Clients and an in-memory journal; in waves, for at least two
    /// heartbeat intervals, sends every Client a command and times a property round while the results come back
    /// and are journaled.
    func measure(slowWrites: Bool) async throws -> Figures {
        let slow = Atomic<Bool>(false)
        let transactions = Atomic<Int>(0)
        let journal = try Journal(path: nil) {
            guard slow.load(ordering: .relaxed) else { return }
            transactions.add(1, ordering: .relaxed)
            usleep(50_000)
        }
        let (stored, storedEvents) = AsyncStream<Void>.makeStream()
        let observer = journal.resultObserver(clock: SystemClock())
        var engine = ManagerEngine.Configuration(
            admission: Admission(sharedToken: Self.token), heartbeatInterval: Self.heartbeat)
        engine.resultObserver = { client, result, done in
            observer(client, result) {
                done()
                storedEvents.yield()
            }
        }
        var logger = Logger(label: "vem.test.slow-journal")
        logger.logLevel = .critical
        // The 1,000 simulated Clients all connect from loopback, at once.
        let hub = HubServer(
            configuration: HubConfiguration(
                port: 0, engine: engine, helloTimeout: .seconds(120), maximumConnectionsPerAddress: 4_096),
            logger: logger)
        let port = try await hub.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let simulated = SimulatedClients(
            configuration: .init(
                host: "127.0.0.1", port: port, count: Self.clients, token: Self.token, mode: .hub,
                heartbeatInterval: Self.heartbeat),
            group: group)
        let probe = HeartbeatProbe()
        do {
            try await simulated.connectAll()
            try await probe.connect(port: port, token: Self.token, heartbeat: Self.heartbeat, group: group)
            let names = (0..<Self.clients).map { "sim\($0)" }
            // The first wave's commands are journaled first, so that its results have rows to complete.
            for name in names {
                _ = try await journal.insertCommand(client: name, seq: 1, name: "noop", arguments: [], trigger: nil, at: 0)
            }
            let disconnects = Atomic<Int>(0)
            let counting = Task {
                for await event in hub.events {
                    if case .disconnect = event { disconnects.add(1, ordering: .relaxed) }
                }
            }
            slow.store(slowWrites, ordering: .relaxed)
            probe.reset()
            var rounds: [Double] = []
            var results = 0
            var storedSoFar = 0
            var storedIterator = stored.makeAsyncIterator()
            let started = DispatchTime.now().uptimeNanoseconds
            let window = UInt64(nanoseconds(Self.heartbeat)) * 2
            while rounds.count < Self.minimumWaves || DispatchTime.now().uptimeNanoseconds - started < window {
                let pendings = try names.map { name throws(BusError) in try hub.submit("noop", arguments: [], to: name) }
                let start = DispatchTime.now().uptimeNanoseconds
                let round = await hub.collectProperties([BenchFrames.propertyName], from: .all, timeout: .seconds(30))
                rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                #expect(round.missing.isEmpty)
                // A Client the hub lost never answers: past a minute, its commands are given up (`.unknown`).
                let watchdog = Task {
                    try await Task.sleep(for: .seconds(60))
                    for pending in pendings where pending.currentOutcome == nil { hub.engine.forget(pending.client) }
                }
                var answered = 0
                for pending in pendings {
                    if case .result = await pending.outcome() { answered += 1 }
                }
                watchdog.cancel()
                #expect(answered == Self.clients, "results from \(answered) Clients of \(Self.clients)")
                results += answered
                if answered < Self.clients { break }
            }
            while storedSoFar < results, await storedIterator.next() != nil { storedSoFar += 1 }
            let gap = probe.largestGap()
            slow.store(false, ordering: .relaxed)
            let lost = disconnects.load(ordering: .relaxed)
            let counts = try await journal.commandCounts()
            #expect(counts["done"] == Self.clients)  // every result journaled before its Client was told
            counting.cancel()
            await probe.close()
            await simulated.closeAll()
            await hub.shutdown()
            try await group.shutdownGracefully()
            return Figures(
                round: rounds.sorted()[rounds.count / 2], heartbeatGap: gap, disconnects: lost,
                transactions: transactions.load(ordering: .relaxed), results: results)
        } catch {
            await probe.close()
            await simulated.closeAll()
            await hub.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
    }
}
