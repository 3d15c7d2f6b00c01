import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VEMBus
import VEMHub
import VEMProtocol
import VEMTrust

#if canImport(Glibc)
    import Glibc
#endif

/// `vem bench bus`: the bus under load. The Manager side (this process) is the real hub; a separate load process
/// (`vem bench-clients`, see ``LoadProcess``) opens N simulated Clients. Then the same rounds through the simplest
/// NIO echo server give the physical limit. A program, not a timed test: build with `swift build -c release` first.
public struct BusBench: Sendable {
    /// What to measure.
    public struct Options: Sendable {
        /// The bus: `hub`, or `nats` (a local nats-server; the hub is measured too, for comparison).
        public var transport = "hub"
        /// Simulated Clients.
        public var clients = 1_000
        /// Measured rounds (after the warm-up ones).
        public var rounds = 30
        /// Frames per write when Clients push unsolicited property messages.
        public var burst = 16
        /// Commands measured for command latency (in waves of up to 100).
        public var commands = 1_000
        /// Blocks of rounds, alternating hub and baseline, so load from elsewhere weighs on both alike.
        public var blocks = 3
        /// Only the rounds (no commands, ingest or kill detection).
        public var roundsOnly = false
        /// Also the rounds on a second hub with mutual TLS (``BenchTrust``: a throwaway CA, one certificate per
        /// Client), in the same blocks as the plain hub's.
        public var tls = false

        /// The defaults.
        public init() {}
    }

    static let token = "bench"
    static let heartbeat = Duration.seconds(5)

    /// The options.
    public let options: Options
    /// The `vem` executable that runs the load processes (`bench-clients`, `bus-client`).
    public let executable: URL

    /// A bench of `options`, starting its load processes from `executable`.
    public init(options: Options, executable: URL) {
        self.options = options
        self.executable = executable
    }

    /// Runs the bench.
    /// - Throws: ``BenchError`` when a load process or the bus does not come up.
    public func run() async throws -> BenchFigures {
        let clients = options.clients
        let blocks = options.blocks
        var figures = BenchFigures(transport: options.transport, clients: clients, heartbeatMilliseconds: 5_000)
        // --transport nats: the NATS bus first, then the hub and the baseline below, in the same run.
        var natsFigures: BenchFigures?
        if options.transport == "nats" {
            var nats = figures
            try await measureNATS(into: &nats)
            natsFigures = nats
            figures.transport = "hub"
        }
        let trust = options.tls ? try BenchTrust.create(clients: clients) : nil
        defer { trust?.remove() }
        let hub = try await HubPhase(executable: executable, clients: clients)
        var tlsHub: HubPhase?
        if let trust { tlsHub = try await HubPhase(executable: executable, clients: clients, trust: trust) }
        let echo = try await EchoPhase(executable: executable, clients: clients)
        let perBlock = max(1, (options.rounds + blocks - 1) / blocks)
        var plain = RoundSeries()
        var secure = RoundSeries()
        var echoRounds: [Double] = []
        var echoCPU = 0.0
        for block in 0..<blocks {
            try await hub.withClients { rssPerClient in
                let times = await hub.rounds(perBlock, warmUp: 2, into: &plain, notes: &figures.notes)
                figures.notes.append("block \(block): hub round p50 \(fixed(percentile(times, 0.5))) ms")
                if block == 0 && !options.roundsOnly {
                    figures.rssPerClientKiB = rssPerClient
                    try await hub.measureCommands(options.commands, into: &figures)
                    try await hub.measureIngest(burst: options.burst, into: &figures)
                    try await hub.measureKillDetection(into: &figures)
                }
            }
            if let tlsHub {
                try await tlsHub.withClients { _ in
                    let times = await tlsHub.rounds(perBlock, warmUp: 2, into: &secure, notes: &figures.notes)
                    figures.notes.append("block \(block): TLS hub round p50 \(fixed(percentile(times, 0.5))) ms")
                }
            }
            try await echo.withClients {
                let cpu = processCPUMilliseconds()
                let times = await echo.rounds(perBlock, warmUp: 2)
                echoCPU += processCPUMilliseconds() - cpu
                echoRounds += times
                figures.notes.append("block \(block): echo round p50 \(fixed(percentile(times, 0.5))) ms")
            }
        }
        await hub.shutdown()
        await tlsHub?.shutdown()
        await echo.shutdown()
        figures.roundP50 = percentile(plain.times, 0.50)
        figures.roundP99 = percentile(plain.times, 0.99)
        figures.baselineP50 = percentile(echoRounds, 0.50)
        figures.baselineP99 = percentile(echoRounds, 0.99)
        // CPU per round over every round, warm-up ones included.
        figures.roundCPU = plain.cpuPerRound
        figures.baselineRoundCPU = echoCPU / Double(blocks * (perBlock + 2))
        figures.extra += plain.tally(prefix: "")
        if let trust, let tlsHub {
            figures.extra += secure.tally(prefix: "tls_")
            figures.extra += tlsFigures(secure, plain: plain, trust: trust, connect: tlsHub.connectMilliseconds)
        }
        if let natsFigures { figures = natsFigures.compared(with: figures) }
        return figures
    }
}

/// The hub side of the bench: the real `HubServer` (with mutual TLS when given a ``BenchTrust``); a load process
/// per block of rounds.
final class HubPhase: Sendable {
    let executable: URL
    let clients: Int
    let server: HubServer
    let port: Int
    let membership: MembershipWatch
    let ingested: Counter
    let trust: BenchTrust?
    private let load = Mutex<ChildProcess?>(nil)
    private let connects = Mutex<[Double]>([])

    /// How long each block's Clients took to connect (and, with TLS, to shake hands), to the last welcome.
    var connectMilliseconds: [Double] { connects.withLock { $0 } }

    /// The nice value of the load processes (0: the bench's own priority).
    let loadNiceness: Int

    init(executable: URL, clients: Int, trust: BenchTrust? = nil, loadNiceness: Int = 0) async throws {
        self.loadNiceness = loadNiceness
        self.executable = executable
        self.clients = clients
        self.trust = trust
        var tls: HubServerTLS?
        if let trust {
            do { tls = HubServerTLS(context: try TLSContexts.server(trust.serverFiles)) } catch {
                throw BenchError("cannot set up the hub's TLS: \(error)")
            }
        }
        var logger = Logger(label: "vem.bench")
        // VEM_BENCH_LOG=info shows why the hub closed connections (e.g. before admission).
        logger.logLevel = ProcessInfo.processInfo.environment["VEM_BENCH_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .error
        let counter = Counter()
        ingested = counter
        server = HubServer(
            configuration: HubConfiguration(
                port: 0,
                engine: .init(
                    admission: Admission(sharedToken: BusBench.token), heartbeatInterval: BusBench.heartbeat),
                // Every simulated Client connects from loopback, all at once.
                helloTimeout: .seconds(300), maximumConnections: 1 << 20, maximumConnectionsPerAddress: 1 << 20,
                tls: tls),
            logger: logger,
            messageHandler: { _, message in
                if case .property = message { counter.value.add(1, ordering: .relaxed) }
            })
        port = try await server.start()
        membership = MembershipWatch(server.events)
    }

    /// Runs `body` with N simulated Clients connected (given the Manager's RSS growth per Client, KiB), then lets
    /// them go.
    func withClients(_ body: (Double) async throws -> Void) async throws {
        let rssBefore = residentKiB()
        let start = ContinuousClock.now
        let process = try ChildProcess(
            executable: executable,
            arguments: [
                "bench-clients", "--connect", "127.0.0.1:\(port)", "--clients", "\(clients)", "--token", BusBench.token,
                "--mode", "hub",
            ] + (trust.map { ["--tls", $0.directory.path] } ?? []), niceness: loadNiceness)
        load.withLock { $0 = process }
        do {
            try await process.expect("ready")
            try await membership.waitForMembers(server, count: clients)
        } catch {
            process.kill()
            throw BenchError("\(trust == nil ? "plain" : "TLS") hub, \(clients) Clients: \(error)")
        }
        let connected = (ContinuousClock.now - start).milliseconds
        connects.withLock { $0.append(connected) }
        try await body(Double(residentKiB() - rssBefore) / Double(clients))
        try await process.send("quit")
        await process.waitForExit()
        try await membership.waitForMembers(server, count: 0)
    }

    /// Property rounds to every Client; the durations in milliseconds (after `warmUp` unrecorded ones). Every
    /// round, warm-up ones included, is counted in `series`: the replies expected (one per member) and received.
    func rounds(_ count: Int, warmUp: Int, into series: inout RoundSeries, notes: inout [String]) async -> [Double] {
        var times: [Double] = []
        let cpu = processCPUMilliseconds()
        for index in 0..<(count + warmUp) {
            let members = server.members().count
            let start = ContinuousClock.now
            let result = await server.collectProperties([BenchFrames.propertyName], from: .all, timeout: .seconds(60))
            let elapsed = (ContinuousClock.now - start).milliseconds
            let received = result.replies.count
            if !result.missing.isEmpty || received != clients || members != clients {
                notes.append(
                    "a \(trust == nil ? "" : "TLS ")round got \(received) of \(clients) replies (\(members) members, "
                        + "\(result.missing.count) missing)")
            }
            series.rounds += 1
            series.expected += clients
            series.received += min(received, clients)
            if index >= warmUp { times.append(elapsed) }
        }
        series.cpu += processCPUMilliseconds() - cpu
        series.times += times
        return times
    }

    /// Command latency: waves of up to 100 commands, one per Client, from submit to result.
    func measureCommands(_ commands: Int, into figures: inout BenchFigures) async throws {
        let latencies = try await commandLatencies(on: server, commands: commands, clients: clients)
        figures.commandP50 = percentile(latencies, 0.50)
        figures.commandP99 = percentile(latencies, 0.99)
    }

    /// Unsolicited property messages absorbed per second: in bursts, then one frame per write. Counted over 2 s
    /// in the middle of 3 s of pushing.
    func measureIngest(burst: Int, into figures: inout BenchFigures) async throws {
        guard let process = load.withLock({ $0 }) else { return }
        let senders = min(clients, 1_000)
        for burstSize in [burst, 1] {
            try await process.send("ingest \(burstSize) 3000 \(senders)")
            try await Task.sleep(for: .milliseconds(500))
            let (start, before) = (ContinuousClock.now, ingested.value.load(ordering: .relaxed))
            try await Task.sleep(for: .seconds(2))
            let (end, after) = (ContinuousClock.now, ingested.value.load(ordering: .relaxed))
            let rate = Double(after - before) / ((end - start).milliseconds / 1_000)
            if burstSize == burst { figures.ingest = rate } else { figures.ingestSingle = rate }
            try await process.expect("ingest-done")
        }
    }

    /// SIGKILL a separate small Client process; the time until the hub reports its `disconnect`.
    func measureKillDetection(into figures: inout BenchFigures) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vem-bench-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try ChildProcess(
            executable: executable,
            arguments: [
                "bus-client", "--connect", "127.0.0.1:\(port)", "--name", "victim", "--token", BusBench.token, "--log",
                scratch.path,
            ])
        try await membership.waitForJoin("victim")
        let killed = ContinuousClock.now
        victim.kill()
        try await membership.waitForDisconnect("victim")
        figures.killDetect = (ContinuousClock.now - killed).milliseconds
        await victim.waitForExit()
    }

    func shutdown() async { await server.shutdown() }
}

/// The baseline side: the bare NIO echo server; an echo-mode load process per block of rounds.
final class EchoPhase: Sendable {
    let executable: URL
    let clients: Int
    let group: MultiThreadedEventLoopGroup
    let echo: EchoBaseline
    let port: Int

    init(executable: URL, clients: Int) async throws {
        self.executable = executable
        self.clients = clients
        group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        echo = EchoBaseline(group: group)
        port = try await echo.start(host: "127.0.0.1")
    }

    func withClients(_ body: () async throws -> Void) async throws {
        let process = try ChildProcess(
            executable: executable,
            arguments: ["bench-clients", "--connect", "127.0.0.1:\(port)", "--clients", "\(clients)", "--mode", "echo"])
        try await process.expect("ready")
        while echo.connectionCount < clients { try await Task.sleep(for: .milliseconds(10)) }
        try await body()
        try await process.send("quit")
        await process.waitForExit()
        while echo.connectionCount > 0 { try await Task.sleep(for: .milliseconds(10)) }
    }

    func rounds(_ count: Int, warmUp: Int) async -> [Double] {
        let request = BenchFrames.buffer(BenchFrames.request(requestID: 1))
        let replyBytes = BenchFrames.buffer(BenchFrames.propertyReport(requestID: 1)).readableBytes
        var times: [Double] = []
        for index in 0..<(count + warmUp) {
            let start = ContinuousClock.now
            await echo.round(request: request, replyBytes: replyBytes)
            if index >= warmUp { times.append((ContinuousClock.now - start).milliseconds) }
        }
        return times
    }

    func shutdown() async {
        await echo.shutdown()
        try? await group.shutdownGracefully()
    }
}

/// The rounds of one hub over every block: durations (measured rounds), and counts over every round sent.
struct RoundSeries {
    /// Measured round durations, milliseconds.
    var times: [Double] = []
    /// Rounds sent, warm-up ones included.
    var rounds = 0
    /// Replies expected: one per simulated Client per round.
    var expected = 0
    /// Replies received.
    var received = 0
    /// This process's CPU time (user + system) over every round, milliseconds.
    var cpu = 0.0

    var cpuPerRound: Double { rounds > 0 ? cpu / Double(rounds) : 0 }

    /// The counts, as extra figures (`prefix` names the hub: `""` or `"tls_"`).
    func tally(prefix: String) -> [BenchFigures.Extra] {
        [
            .init(name: "\(prefix)rounds_sent", value: "\(rounds)"),
            .init(name: "\(prefix)replies_expected", value: "\(expected)"),
            .init(name: "\(prefix)replies_missing", value: "\(expected - received)"),
        ]
    }
}

/// The TLS hub's figures beside the plain hub's of the same run (`vem bench bus --tls`).
func tlsFigures(_ secure: RoundSeries, plain: RoundSeries, trust: BenchTrust, connect: [Double]) -> [BenchFigures.Extra] {
    let p50 = percentile(secure.times, 0.50)
    let plainP50 = percentile(plain.times, 0.50)
    return [
        .init(name: "tls_round_p50_ms", value: fixed(p50)),
        .init(name: "tls_round_p99_ms", value: fixed(percentile(secure.times, 0.99))),
        .init(name: "tls_round_ratio", value: fixed(plainP50 > 0 ? p50 / plainP50 : 0, 3)),
        .init(name: "tls_manager_cpu_ms_per_round", value: fixed(secure.cpuPerRound)),
        .init(name: "tls_client_certificates", value: "\(trust.issued - 1)"),
        .init(name: "tls_issue_ms", value: fixed(trust.issueMilliseconds, 0)),
        .init(name: "tls_connect_p50_ms", value: fixed(percentile(connect, 0.50), 0)),
    ]
}

/// A counter shared with the hub's message handler.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// Waits for membership events of the hub (a program: polling the member count is fine here).
final class MembershipWatch: Sendable {
    private let recorded: Mutex<[BusEvent]> = Mutex([])

    init(_ events: AsyncStream<BusEvent>) {
        Task { [self] in
            for await event in events {
                if case .message = event { continue }
                self.recorded.withLock { $0.append(event) }
            }
        }
    }

    func waitForMembers(_ server: any ManagerBus, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while server.members().count < count {
            if ContinuousClock.now > deadline { throw BenchError("only \(server.members().count) Clients joined") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func waitForJoin(_ name: String) async throws {
        try await wait("\(name) to join") { if case .join(let id, _) = $0 { id.name == name } else { false } }
    }

    func waitForDisconnect(_ name: String) async throws {
        try await wait("\(name) to disconnect") { if case .disconnect(name, _) = $0 { true } else { false } }
    }

    private func wait(_ what: String, _ predicate: (BusEvent) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !recorded.withLock({ $0.contains(where: predicate) }) {
            if ContinuousClock.now > deadline { throw BenchError("timed out waiting for \(what)") }
            try await Task.sleep(for: .microseconds(200))
        }
    }
}

/// Command latencies in milliseconds, submit to outcome: waves of up to 100 `noop` commands, one per simulated
/// Client (`sim0`, `sim1`, …), whatever the transport.
func commandLatencies(on bus: some ManagerBus, commands: Int, clients: Int) async throws -> [Double] {
    var latencies: [Double] = []
    var next = 0
    while latencies.count < commands {
        let wave = min(100, commands - latencies.count, clients)
        let start = ContinuousClock.now
        var pending: [PendingCommand] = []
        for _ in 0..<wave {
            pending.append(try bus.submit("noop", arguments: [], to: "sim\(next % clients)"))
            next += 1
        }
        let times = await withTaskGroup(of: Double.self) { group in
            for command in pending {
                group.addTask {
                    _ = await command.outcome()
                    return (ContinuousClock.now - start).milliseconds
                }
            }
            return await group.reduce(into: [Double]()) { $0.append($1) }
        }
        latencies += times
    }
    return latencies
}
