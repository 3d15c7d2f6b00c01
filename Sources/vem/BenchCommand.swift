import ArgumentParser
import Foundation
import VEMBench
import VEMConfig

/// `vem bench …`: benchmark programs (benchmarks are programs, not timed tests), thin wrappers over VEMBench.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark and print its figures.",
        subcommands: [BenchRules.self, BenchBus.self]
    )
}

/// `vem bench rules`: ``VEMBench/RulesBench``.
struct BenchRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Time trigger expressions over synthetic snapshots of 1,000 / 10,000 / 100,000 clients.",
        discussion: "Build with `swift build -c release` first; debug builds are many times slower.")

    @Flag(help: "Print the figures as JSON.") var json = false
    @Option(help: "Evaluations per expression and snapshot size.") var iterations = 50
    @Option(parsing: .upToNextOption, help: "Snapshot sizes (numbers of clients).")
    var clients: [Int] = [1_000, 10_000, 100_000]

    func validate() throws {
        if iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if clients.contains(where: { $0 < 0 }) { throw ValidationError("--clients must not be negative") }
    }

    func run() throws { print(try RulesBench(iterations: iterations, clients: clients).run(json: json)) }
}

/// `vem bench bus`: ``VEMBench/BusBench``.
struct BenchBus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract: "Measure the bus: property rounds, ingest, command latency, memory per Client, kill detection.",
        discussion: """
            Example: .build/release/vem bench bus --transport hub --clients 10000 --json
            A round is one get_property to every Client and every reply back. The baseline is the same round on
            a bare NIO echo server over the same number of sockets with the same frame sizes.
            """)

    @Option(help: "The bus to measure: hub, or nats (a local nats-server; the hub is measured too, for comparison).")
    var transport = "hub"
    @Option(help: "Simulated Clients.") var clients = 1_000
    @Option(help: "Measured rounds (after 3 warm-up rounds).") var rounds = 30
    @Option(help: "Frames per write when Clients push unsolicited property messages.") var burst = 16
    @Option(help: "Commands measured for command latency (in waves of up to 100).") var commands = 1_000
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: .hidden) var roundsOnly = false
    @Option(help: "Blocks of rounds, alternating hub and baseline, so load from elsewhere weighs on both alike.")
    var blocks = 3

    func validate() throws {
        if transport != "hub" && transport != "nats" { throw ValidationError("--transport must be hub or nats") }
        if clients < 1 || rounds < 1 || burst < 1 || commands < 1 {
            throw ValidationError("--clients, --rounds, --burst and --commands must be at least 1")
        }
    }

    func run() async throws {
        var options = BusBench.Options()
        (options.transport, options.clients, options.rounds, options.burst) = (transport, clients, rounds, burst)
        (options.commands, options.blocks, options.roundsOnly) = (commands, blocks, roundsOnly)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let figures = try await BusBench(options: options, executable: executable).run()
        print(json ? figures.json : figures.table)
    }
}

/// `vem bench-clients` (hidden): the load process of `vem bench bus` (``VEMBench/LoadProcess``).
struct BenchClients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-clients",
        abstract: "Simulated Clients for `vem bench bus` (a separate process: each side needs N file descriptors).",
        shouldDisplay: false)

    @Option(help: "The server's address, HOST:PORT.") var connect: String
    @Option(help: "How many Clients.") var clients = 1_000
    @Option(help: "The token to present (hub mode).") var token = "bench"
    @Option(help: "The site name (nats mode).") var site = "bench"
    @Option(help: "A file of `user password` lines (nats mode; from `vem nats-config --credentials`).")
    var credentials: String?
    @Option(help: "hub (the VEM protocol), nats (the NATS bus) or echo (fixed-size frames for the baseline).")
    var mode = "hub"
    @Option(help: "Event loop threads.") var threads = 1

    func validate() throws {
        if !LoadProcess.modes.contains(mode) { throw ValidationError("--mode must be hub, nats or echo") }
        if clients < 1 || threads < 1 { throw ValidationError("--clients and --threads must be at least 1") }
        if HostPort(parsing: connect) == nil { throw ValidationError("--connect must be HOST:PORT") }
    }

    func run() async throws {
        guard let address = HostPort(parsing: connect) else { throw ValidationError("--connect must be HOST:PORT") }
        var options = LoadProcess.Options(host: address.host, port: address.port)
        (options.clients, options.token, options.site) = (clients, token, site)
        (options.credentials, options.mode, options.threads) = (credentials, mode, threads)
        try await LoadProcess(options: options).run()
    }
}
