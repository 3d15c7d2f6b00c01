import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VEMBus
import VEMHub
import VEMProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// `vem bench bus`: the bus under load. The Manager side (this process) is the real hub; a separate load process
/// (`vem bench-clients`) opens N simulated Clients. Then the same rounds through the simplest NIO echo server
/// give the physical limit. A program, not a timed test: build with `swift build -c release` first.
struct BenchBus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract: "Measure the bus: property rounds, ingest, command latency, memory per Client, kill detection.",
        discussion: """
            Example: .build/release/vem bench bus --transport hub --clients 10000 --json
            A round is one get_property to every Client and every reply back. The baseline is the same round on
            a bare NIO echo server over the same number of sockets with the same frame sizes.
            """
    )

    @Option(help: "The bus to measure: hub, or nats (a local nats-server; the hub is measured too, for comparison).")
    var transport = "hub"

    @Option(help: "Simulated Clients.")
    var clients = 1_000

    @Option(help: "Measured rounds (after 3 warm-up rounds).")
    var rounds = 30

    @Option(help: "Frames per write when Clients push unsolicited property messages.")
    var burst = 16

    @Option(help: "Commands measured for command latency (in waves of up to 100).")
    var commands = 1_000

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if transport != "hub" && transport != "nats" { throw ValidationError("--transport must be hub or nats") }
        if clients < 1 || rounds < 1 || burst < 1 || commands < 1 {
            throw ValidationError("--clients, --rounds, --burst and --commands must be at least 1")
        }
    }

    static let token = "bench"
    static let heartbeat = Duration.seconds(5)

    func run() async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var figures = BenchFigures(transport: transport, clients: clients, heartbeatMilliseconds: 5_000)
        if transport == "nats" {
            try await measureNATS(executable: executable, into: &figures)
            var hub = figures
            try await measureHub(executable: executable, into: &hub)
            figures.compare(with: hub)
        } else {
            try await measureHub(executable: executable, into: &figures)
        }
        try await measureBaseline(executable: executable, into: &figures)
        print(json ? figures.json : figures.table)
    }

    // MARK: The hub

    private func measureHub(executable: URL, into figures: inout BenchFigures) async throws {
        let ingested = Atomic<Int>(0)
        var logger = Logger(label: "vem.bench")
        logger.logLevel = .error
        let server = HubServer(
            configuration: HubConfiguration(
                port: 0,
                engine: .init(admission: Admission(sharedToken: Self.token), heartbeatInterval: Self.heartbeat)),
            logger: logger,
            messageHandler: { _, message in
                if case .property = message { ingested.add(1, ordering: .relaxed) }
            })
        let port = try await server.start()
        let membership = MembershipWatch(server.events)
        let rssBefore = residentKiB()

        let load = try ChildProcess(
            executable: executable,
            arguments: [
                "bench-clients", "--connect", "127.0.0.1:\(port)", "--clients", "\(clients)", "--token", Self.token,
                "--mode", "hub",
            ])
        try await load.expect("ready")
        try await membership.waitForMembers(server, count: clients)
        figures.rssPerClientKiB = Double(residentKiB() - rssBefore) / Double(clients)

        // Rounds.
        var roundTimes: [Double] = []
        for index in 0..<(rounds + 3) {
            let start = ContinuousClock.now
            let result = await server.collectProperties([BenchFrames.propertyName], from: .all, timeout: .seconds(60))
            let elapsed = (ContinuousClock.now - start).milliseconds
            if result.replies.count != clients { figures.notes.append("round \(index): \(result.missing.count) missing") }
            if index >= 3 { roundTimes.append(elapsed) }
        }
        figures.roundP50 = percentile(roundTimes, 0.50)
        figures.roundP99 = percentile(roundTimes, 0.99)

        // Commands: waves of up to 100, one per Client, latency from submit to result.
        var latencies: [Double] = []
        var next = 0
        while latencies.count < commands {
            let wave = min(100, commands - latencies.count, clients)
            let start = ContinuousClock.now
            var pending: [PendingCommand] = []
            for _ in 0..<wave {
                pending.append(try server.submit("noop", arguments: [], to: "sim\(next % clients)"))
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
        figures.commandP50 = percentile(latencies, 0.50)
        figures.commandP99 = percentile(latencies, 0.99)

        // Ingest: unsolicited property messages, in bursts and one per write.
        let senders = min(clients, 1_000)
        for burstSize in [burst, 1] {
            try await load.send("ingest \(burstSize) 3000 \(senders)")
            try await Task.sleep(for: .milliseconds(500))
            let (start, before) = (ContinuousClock.now, ingested.load(ordering: .relaxed))
            try await Task.sleep(for: .seconds(2))
            let (end, after) = (ContinuousClock.now, ingested.load(ordering: .relaxed))
            let rate = Double(after - before) / ((end - start).milliseconds / 1_000)
            if burstSize == burst { figures.ingest = rate } else { figures.ingestSingle = rate }
            try await load.expect("ingest-done")
        }

        // Kill detection: a separate small Client process, SIGKILLed.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vem-bench-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let victim = try ChildProcess(
            executable: executable,
            arguments: [
                "bus-client", "--connect", "127.0.0.1:\(port)", "--name", "victim", "--token", Self.token, "--log",
                scratch.path,
            ])
        try await membership.waitForJoin("victim")
        let killed = ContinuousClock.now
        victim.kill()
        try await membership.waitForDisconnect("victim")
        figures.killDetect = (ContinuousClock.now - killed).milliseconds

        try await load.send("quit")
        await load.waitForExit()
        await server.shutdown()
    }

    // MARK: The baseline

    private func measureBaseline(executable: URL, into figures: inout BenchFigures) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let echo = EchoBaseline(group: group)
        let port = try await echo.start(host: "127.0.0.1")
        let load = try ChildProcess(
            executable: executable,
            arguments: ["bench-clients", "--connect", "127.0.0.1:\(port)", "--clients", "\(clients)", "--mode", "echo"])
        try await load.expect("ready")
        while echo.connectionCount < clients { try await Task.sleep(for: .milliseconds(10)) }
        let request = BenchFrames.buffer(BenchFrames.request(requestID: 1))
        let replyBytes = BenchFrames.buffer(BenchFrames.propertyReport(requestID: 1)).readableBytes
        var times: [Double] = []
        for index in 0..<(rounds + 3) {
            let start = ContinuousClock.now
            await echo.round(request: request, replyBytes: replyBytes)
            if index >= 3 { times.append((ContinuousClock.now - start).milliseconds) }
        }
        figures.baselineP50 = percentile(times, 0.50)
        figures.baselineP99 = percentile(times, 0.99)
        try await load.send("quit")
        await load.waitForExit()
        await echo.shutdown()
        try await group.shutdownGracefully()
    }
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
            if ContinuousClock.now > deadline { throw ValidationError("only \(server.members().count) Clients joined") }
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
            if ContinuousClock.now > deadline { throw ValidationError("timed out waiting for \(what)") }
            try await Task.sleep(for: .microseconds(200))
        }
    }
}
