import ArgumentParser
import Foundation
import VEMBench
import VEMManager

/// `vem bench …`: benchmark programs (benchmarks are programs, not timed tests), thin wrappers over VEMBench.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark and print its figures.",
        subcommands: [BenchRules.self, BenchBus.self, BenchManager.self, BenchAgent.self]
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

    func validate() throws { try usage { try RulesBench.check(iterations: iterations, clients: clients) } }

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
    @Flag(help: "Also measure the rounds on a second hub with mutual TLS (a throwaway CA, a certificate per Client).")
    var tls = false

    func validate() throws { _ = try options() }

    /// The options, checked by ``VEMBench/BusBench/Options``.
    func options() throws -> BusBench.Options {
        try usage {
            try BusBench.Options(
                transport: transport, clients: clients, rounds: rounds, burst: burst, commands: commands,
                blocks: blocks, roundsOnly: roundsOnly, tls: tls)
        }
    }

    func run() async throws {
        let figures = try await BusBench(options: try options(), executable: benchExecutable).run()
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
    @Option(help: "Mutual TLS (hub mode): the scratch CA directory of `vem bench bus --tls`.") var tls: String?
    @Option(help: "Dom0 Clients (site mode).") var hosts = 100
    @Option(help: "VMs of the first demand (site mode).") var vms = 200
    @Option(help: "Groups (site mode).") var groups = 4
    @Option(help: "vCPUs per host (site mode).") var cpusPerHost = 8
    @Option(help: "VMs more per demand step (site mode).") var delta = 4

    func validate() throws { _ = try options() }

    /// The options, checked by ``VEMBench/LoadProcess/Options``.
    func options() throws -> LoadProcess.Options {
        try usage {
            try LoadProcess.Options(
                connect: connect, mode: mode, clients: clients, threads: threads, token: token, site: site,
                credentials: credentials, hosts: hosts, vms: vms, groups: groups, cpusPerHost: cpusPerHost,
                delta: delta, tlsDirectory: tls)
        }
    }

    func run() async throws { try await LoadProcess(options: try options()).run() }
}

/// `vem bench manager`: ``VEMBench/ManagerBench``.
struct BenchManager: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager",
        abstract: "Measure the whole Manager (journal, triggers, planner, Sender) under a simulated site.",
        discussion: """
            Example: .build/release/vem bench manager --hosts 1000 --clients 10000 --vms 2000 --json
            A real Manager (journal on disk in a scratch directory, hub on loopback, the default triggers) runs
            here; a second process holds the Dom0 Clients (hypervisor property), a guest per VM, the batch
            Client (replay_demand) and plain Clients up to --clients. The demand first asks for --vms VMs, then
            one group wants more at each of --steps steps. Then the same number of Clients on the bus alone
            (the hub, no Manager) for its CPU per property round (--no-bus-baseline skips it).
            """)

    @Option(help: "Dom0 Clients.") var hosts = 100
    @Option(help: "Clients in all (hosts, batch, guests and plain Clients).") var clients = 1_000
    @Option(help: "VMs of the first demand.") var vms = 200
    @Option(help: "Groups.") var groups = 4
    @Option(help: "Measured demand steps.") var steps = 10
    @Option(help: "Commands sent through the Sender in the throughput phase.") var commands = 2_000
    @Flag(help: "Skip the bus alone's property rounds (measured after the Manager's, same Clients).")
    var noBusBaseline = false
    @Option(
        help: """
            The load process's nice value, 0 to 19 (also for the bus-alone phase): it stands for remote machines \
            but shares this machine's cores.
            """)
    var loadNice = 0
    @Option(
        help: ArgumentHelp(
            "Nice steps the Manager's journal writes run below its event loops, 0 to 19 (0: at their level).",
            valueName: "n"))
    var backgroundNice = BackgroundPriority.managerDefault
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws { _ = try options() }

    /// The options, checked by ``VEMBench/ManagerBench/Options``.
    func options() throws -> ManagerBench.Options {
        try usage {
            try ManagerBench.Options(
                hosts: hosts, clients: clients, vms: vms, groups: groups, steps: steps, commands: commands,
                loadNiceness: loadNice, backgroundNiceness: backgroundNice)
        }
    }

    func run() async throws {
        let figures = try await ManagerBench(
            options: try options(), executable: benchExecutable, busBaseline: !noBusBaseline
        ).run()
        print(json ? figures.json : figures.table)
    }
}

/// `vem bench agent`: ``VEMBench/AgentBench``.
struct BenchAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Measure an idle agent: its RSS, where it lies, its CPU per collection of ram_free (each second).")

    /// Which agent.
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        /// A guest's `vem-agent`, beside this executable.
        case vemAgent = "vem-agent"
        /// A host's `vem agent` (this executable).
        case vem
    }

    @Option(help: "The agent: vem-agent (a guest's, beside this executable) or vem (a host's `vem agent`).")
    var agent: Kind = .vemAgent
    @Option(help: "Seconds measured (after a 3 s warm-up).") var seconds = 20
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws { try usage { try AgentBench.check(seconds: seconds) } }

    func run() async throws {
        let bench =
            switch agent {
            case .vem: AgentBench(seconds: seconds, executable: benchExecutable)
            case .vemAgent:
                AgentBench(
                    seconds: seconds,
                    executable: benchExecutable.deletingLastPathComponent().appendingPathComponent("vem-agent"),
                    arguments: [])
            }
        guard FileManager.default.isExecutableFile(atPath: bench.executable.path) else {
            printError("error: \(bench.executable.path) is missing: swift build --product vem-agent")
            throw ExitCode.failure
        }
        let figures = try await bench.run()
        print(json ? figures.json : figures.table)
    }
}
