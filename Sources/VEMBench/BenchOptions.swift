import Foundation
import VEMConfig
import VEMManager

/// Why a bench's options are not valid: the message `vem bench …` prints as a usage error.
public struct BenchOptionError: Error, Sendable, CustomStringConvertible {
    /// The message (`--clients must be at least 1`).
    public let description: String

    init(_ description: String) { self.description = description }
}

/// The running executable (`/proc/self/exe`, symlinks resolved): what the benches spawn for their load processes.
public let benchExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()

extension RulesBench {
    /// Checks `vem bench rules`' options.
    /// - Throws: ``BenchOptionError`` when `iterations` is below 1 or a snapshot size is negative.
    public static func check(iterations: Int, clients: [Int]) throws(BenchOptionError) {
        if iterations < 1 { throw BenchOptionError("--iterations must be at least 1") }
        if clients.contains(where: { $0 < 0 }) { throw BenchOptionError("--clients must not be negative") }
    }
}

extension BusBench.Options {
    /// The options of `vem bench bus`, checked.
    /// - Throws: ``BenchOptionError`` when the transport is not `hub` or `nats`, or a count is below 1.
    public init(
        transport: String, clients: Int, rounds: Int, burst: Int, commands: Int, blocks: Int, roundsOnly: Bool,
        tls: Bool
    ) throws(BenchOptionError) {
        if transport != "hub" && transport != "nats" { throw BenchOptionError("--transport must be hub or nats") }
        if clients < 1 || rounds < 1 || burst < 1 || commands < 1 {
            throw BenchOptionError("--clients, --rounds, --burst and --commands must be at least 1")
        }
        self.init()
        (self.transport, self.clients, self.rounds, self.burst) = (transport, clients, rounds, burst)
        (self.commands, self.blocks, self.roundsOnly, self.tls) = (commands, blocks, roundsOnly, tls)
    }
}

extension LoadProcess.Options {
    /// The options of `vem bench-clients` for the server at `connect` (`HOST:PORT`), checked.
    /// - Throws: ``BenchOptionError`` when the mode is not one of ``LoadProcess/modes``, `clients` or `threads`
    ///   is below 1, or `connect` is not `HOST:PORT`.
    public init(
        connect: String, mode: String, clients: Int, threads: Int, token: String, site: String, credentials: String?,
        hosts: Int, vms: Int, groups: Int, cpusPerHost: Int, delta: Int, tlsDirectory: String?
    ) throws(BenchOptionError) {
        if !LoadProcess.modes.contains(mode) { throw BenchOptionError("--mode must be hub, nats, echo or site") }
        if clients < 1 || threads < 1 { throw BenchOptionError("--clients and --threads must be at least 1") }
        guard let address = HostPort(parsing: connect) else { throw BenchOptionError("--connect must be HOST:PORT") }
        self.init(host: address.host, port: address.port)
        (self.mode, self.clients, self.threads, self.token, self.site) = (mode, clients, threads, token, site)
        (self.credentials, self.hosts, self.vms, self.groups) = (credentials, hosts, vms, groups)
        (self.cpusPerHost, self.delta, self.tlsDirectory) = (cpusPerHost, delta, tlsDirectory)
    }
}

extension ManagerBench.Options {
    /// The options of `vem bench manager`, checked.
    /// - Throws: ``BenchOptionError`` when a count is below 1, there are fewer VMs than groups, or fewer
    ///   Clients than hosts, VMs and the batch Client.
    public init(
        hosts: Int, clients: Int, vms: Int, groups: Int, steps: Int, commands: Int, loadNiceness: Int = 0,
        backgroundNiceness: Int = BackgroundPriority.managerDefault
    ) throws(BenchOptionError) {
        if !(0...19).contains(loadNiceness) { throw BenchOptionError("--load-nice must be 0 to 19") }
        if !(0...19).contains(backgroundNiceness) { throw BenchOptionError("--background-nice must be 0 to 19") }
        if hosts < 1 || groups < 1 || steps < 1 || vms < groups || commands < 1 {
            throw BenchOptionError(
                "--hosts, --groups, --steps and --commands must be at least 1, --vms at least --groups")
        }
        if clients < hosts + 1 + vms {
            throw BenchOptionError("--clients must be at least --hosts + --vms + 1 (the batch Client)")
        }
        self.init()
        (self.hosts, self.clients, self.vms, self.groups) = (hosts, clients, vms, groups)
        (self.steps, self.commands, self.loadNiceness) = (steps, commands, loadNiceness)
        self.backgroundNiceness = backgroundNiceness
    }
}

extension AgentBench {
    /// Checks `vem bench agent`'s seconds.
    /// - Throws: ``BenchOptionError`` when `seconds` is below 1.
    public static func check(seconds: Int) throws(BenchOptionError) {
        if seconds < 1 { throw BenchOptionError("--seconds must be at least 1") }
    }
}
