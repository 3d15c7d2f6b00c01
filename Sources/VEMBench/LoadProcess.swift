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

        /// Options for a server at `host:port`.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The modes ``Options/mode`` accepts.
    public static let modes = ["hub", "nats", "echo"]

    /// The options.
    public let options: Options

    /// A load process of `options`.
    public init(options: Options) { self.options = options }

    /// Connects every Client, then obeys standard input until `quit` or its end.
    /// - Throws: ``BenchError`` for a bad mode or unreadable credentials; connection errors.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
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
                    host: options.host, port: options.port, count: options.clients, token: options.token, mode: mode),
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
