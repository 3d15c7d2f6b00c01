import Foundation
import NIOPosix
import VEMHub

/// The load process of `vem bench bus` (`vem bench-clients`): opens N simulated Clients over loopback on a small
/// event loop group, prints `ready`, then obeys lines on standard input: `ingest BURST MILLISECONDS SENDERS`
/// (prints `ingest-done`) and `quit`. A separate process, since each side needs N file descriptors.
public struct LoadProcess: Sendable {
    /// What to open.
    public struct Options: Sendable {
        /// The server's host.
        public var host: String
        /// The server's port.
        public var port: Int
        /// How many Clients.
        public var clients = 1_000
        /// The token to present (hub mode).
        public var token = "bench"
        /// The site name (nats mode).
        public var site = "bench"
        /// A file of `user password` lines (nats mode; from `vem nats-config --credentials`).
        public var credentials: String?
        /// `hub` (the VEM protocol), `nats` (the NATS bus) or `echo` (fixed-size frames for the baseline).
        public var mode = "hub"
        /// Event loop threads.
        public var threads = 1
        /// Mutual TLS (hub mode): the scratch CA directory of `vem bench bus --tls`, one certificate per Client.
        public var tlsDirectory: String?
        /// Dom0 Clients (site mode).
        public var hosts = 100
        /// VMs of the first demand (site mode).
        public var vms = 200
        /// Groups (site mode).
        public var groups = 4
        /// vCPUs per host (site mode).
        public var cpusPerHost = 8
        /// VMs more per demand step (site mode).
        public var delta = 4

        /// Options for a server at `host:port`.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The modes ``Options/mode`` accepts.
    public static let modes = ["hub", "nats", "echo", "site"]

    /// The options.
    public let options: Options

    /// A load process of `options`.
    public init(options: Options) { self.options = options }

    /// Connects every Client, then obeys standard input until `quit` or its end.
    /// - Throws: ``BenchError`` for a bad mode or unreadable credentials; connection errors.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        if options.mode == "site" { return try await runSite(group: group) }
        let load: any LoadGenerator
        switch options.mode {
        case "nats":
            load = NATSSimulatedClients(
                configuration: .init(
                    host: options.host, port: options.port, count: options.clients, token: options.token,
                    site: options.site, passwords: try passwords()),
                group: group)
        default:
            guard let mode = SimulatedClients.Mode(rawValue: options.mode) else {
                throw BenchError("--mode must be \(Self.modes.joined(separator: ", "))")
            }
            load = SimulatedClients(
                configuration: .init(
                    host: options.host, port: options.port, count: options.clients, token: options.token, mode: mode,
                    tlsDirectory: options.tlsDirectory),
                group: group)
        }
        try await load.connectAll()
        say("ready")
        while let line = readLine() {
            let words = line.split(separator: " ")
            switch words.first {
            case "ingest":
                guard words.count == 4, let burst = Int(words[1]), let milliseconds = Int(words[2]),
                    let senders = Int(words[3])
                else {
                    say("error bad ingest line")
                    continue
                }
                try await load.ingest(burst: burst, duration: .milliseconds(milliseconds), senders: senders)
                say("ingest-done")
            case "quit":
                await load.closeAll()
                try await group.shutdownGracefully()
                return
            default:
                say("error unknown command")
            }
        }
        await load.closeAll()
        try await group.shutdownGracefully()
    }

    /// The site mode of `vem bench manager` (``SiteClients``): obeys `step K` (the site prints `create MS` at
    /// the step's first `vm.create`), `wait-vms N MILLISECONDS` (prints `vms-ready N` once N guests are
    /// connected, else `vms-timeout N`) and `quit`.
    private func runSite(group: MultiThreadedEventLoopGroup) async throws {
        let o = options
        let say: @Sendable (String) -> Void = { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        let site = SiteClients(
            configuration: .init(
                host: o.host, port: o.port, token: o.token, hosts: o.hosts, clients: o.clients, vms: o.vms,
                groups: o.groups, cpusPerHost: o.cpusPerHost, delta: o.delta),
            group: group, output: say)
        try await site.connectAll()
        say("ready")
        while let line = readLine() {
            let words = line.split(separator: " ")
            switch words.first {
            case "step":
                site.step(Int(words.dropFirst().first ?? "") ?? 0)
            case "wait-vms":
                let count = Int(words.dropFirst().first ?? "") ?? 0
                let milliseconds = Int(words.dropFirst(2).first ?? "") ?? 60_000
                let deadline = ContinuousClock.now + .milliseconds(milliseconds)
                while site.counts.guests < count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let guests = site.counts.guests
                say(guests >= count ? "vms-ready \(guests)" : "vms-timeout \(guests)")
            case "quit":
                break
            default:
                say("error unknown command")
                continue
            }
            if words.first == "quit" { break }
        }
        await site.closeAll()
        try await group.shutdownGracefully()
    }

    /// The `user password` lines of the credentials file.
    private func passwords() throws -> [String: String] {
        guard let credentials = options.credentials, let data = FileManager.default.contents(atPath: credentials) else {
            throw BenchError("--mode nats needs a readable --credentials file")
        }
        var passwords: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1)
            if fields.count == 2 { passwords[String(fields[0])] = String(fields[1]) }
        }
        return passwords
    }

    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// N simulated Clients of one transport, as the load process drives them.
protocol LoadGenerator: Sendable {
    /// Connects every Client; returns once every one was welcomed.
    func connectAll() async throws
    /// `senders` Clients push unsolicited property messages in bursts of `burst` frames for `duration`.
    func ingest(burst: Int, duration: Duration, senders: Int) async throws
    /// Closes every connection.
    func closeAll() async
}

extension SimulatedClients: LoadGenerator {}
extension NATSSimulatedClients: LoadGenerator {}
