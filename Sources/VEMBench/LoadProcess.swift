import ArgumentParser
import Foundation
import NIOPosix
import VEMHub

/// `vem bench-clients` (hidden): the load process of `vem bench bus`. Opens N simulated Clients over loopback on
/// a small event loop group, prints `ready`, then obeys lines on standard input:
/// `ingest BURST MILLISECONDS SENDERS` (prints `ingest-done`) and `quit`.
struct BenchClients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-clients",
        abstract: "Simulated Clients for `vem bench bus` (a separate process: each side needs N file descriptors).",
        shouldDisplay: false
    )

    @Option(help: "The server's address, HOST:PORT.")
    var connect: String

    @Option(help: "How many Clients.")
    var clients = 1_000

    @Option(help: "The token to present (hub mode).")
    var token = "bench"

    @Option(help: "The site name (nats mode).")
    var site = "bench"

    @Option(help: "A file of `user password` lines (nats mode; from `vem nats-config --credentials`).")
    var credentials: String?

    @Option(help: "hub (the VEM protocol), nats (the NATS bus) or echo (fixed-size frames for the baseline).")
    var mode = "hub"

    @Option(help: "Event loop threads.")
    var threads = 1

    func validate() throws {
        if mode != "nats" && SimulatedClients.Mode(rawValue: mode) == nil {
            throw ValidationError("--mode must be hub, nats or echo")
        }
        if clients < 1 || threads < 1 { throw ValidationError("--clients and --threads must be at least 1") }
        guard let colon = connect.lastIndex(of: ":"), Int(connect[connect.index(after: colon)...]) != nil else {
            throw ValidationError("--connect must be HOST:PORT")
        }
    }

    func run() async throws {
        if mode == "nats" {
            try await runNATS()
            return
        }
        guard let colon = connect.lastIndex(of: ":"), let port = Int(connect[connect.index(after: colon)...]),
            let mode = SimulatedClients.Mode(rawValue: mode)
        else { throw ValidationError("--connect must be HOST:PORT") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let simulated = SimulatedClients(
            configuration: .init(
                host: String(connect[..<colon]), port: port, count: clients, token: token, mode: mode),
            group: group)
        try await simulated.connectAll()
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
                try await simulated.ingest(burst: burst, duration: .milliseconds(milliseconds), senders: senders)
                say("ingest-done")
            case "quit":
                await simulated.closeAll()
                try await group.shutdownGracefully()
                return
            default:
                say("error unknown command")
            }
        }
        await simulated.closeAll()
        try await group.shutdownGracefully()
    }

    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
