import ArgumentParser
import Foundation
import Logging
import VEMBus
import VEMHub
import VEMProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// `vem bus-client` (hidden): one Client on the embedded hub for integration tests. It executes each command by
/// appending `seq name` to a log file, fsync'd before the result is reported, so a test can SIGKILL it at any
/// moment and check that no command ran twice or out of order. It exits when its standard input reaches end of
/// file, so it never outlives the test (or bench) that started it with a pipe.
struct BusClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus-client",
        abstract: "Connect to a hub as one Client and execute commands by appending them to a log (for tests).",
        shouldDisplay: false
    )

    @Option(help: "The Manager's address, HOST:PORT (the hub).")
    var connect: String = ""

    @Option(help: "Use the NATS bus instead of the hub: comma-separated server URLs.")
    var nats: String?

    @Option(help: "NATS user and password (with --nats), USER:PASSWORD.")
    var natsUser: String?

    @Option(help: "The site name (with --nats).")
    var site = "site"

    @Option(help: "The Client's name.")
    var name: String

    @Option(help: "The token to present.")
    var token: String

    @Option(help: "The file to append `seq name` lines to (created if missing).")
    var log: String

    @Option(help: "The Client's group.")
    var group: String?

    @Option(help: "The Client's software version.")
    var version = "1.0.0"

    @Option(help: "Heartbeat interval in milliseconds until the Manager announces its own.")
    var heartbeatMs = 1_000

    @Option(help: "Milliseconds each command takes (after its line is written).")
    var commandDelayMs = 0

    func validate() throws {
        if parsedAddress == nil && nats == nil { throw ValidationError("--connect must be HOST:PORT") }
    }

    var parsedAddress: (host: String, port: Int)? {
        guard let colon = connect.lastIndex(of: ":"), let port = Int(connect[connect.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        return (String(connect[..<colon]), port)
    }

    func run() async throws {
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while read(STDIN_FILENO, &byte, 1) > 0 {}
            Glibc.exit(0)
        }
        let file = try AppendOnlyLog(path: log)
        let delay = commandDelayMs
        let identity = ClientIdentity(
            name: name, role: .domU, host: ProcessInfo.processInfo.hostName, group: group, version: version,
            incarnation: UInt64.random(in: 1...UInt64.max))
        var logger = Logger(label: "vem.bus-client")
        logger.logLevel = .warning
        let handlers = ClientHandlers(
            execute: { command in
                let ok = file.append("\(command.seq) \(command.name)\n")
                if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
                return CommandResult(seq: command.seq, status: ok ? .ok : .failed, error: ok ? nil : "log write failed")
            },
            properties: { request in
                PropertyReport(
                    requestID: request.requestID,
                    readings: [PropertyReading(name: "name", timestampMilliseconds: 0, value: .string(identity.name))])
            })
        if let nats {
            try await runOnNATS(servers: nats, identity: identity, handlers: handlers, logger: logger)
            return
        }
        guard let (host, port) = parsedAddress else { throw ValidationError("--connect must be HOST:PORT") }
        let client = HubClient(
            configuration: HubClientConfiguration(
                host: host, port: port, heartbeatInterval: .milliseconds(heartbeatMs),
                backoff: .init(initial: .milliseconds(20), maximum: .seconds(1))),
            identity: identity, token: token, handlers: handlers,
            logger: logger)
        try await client.run()
    }
}

/// An append-only file whose every line is on disk (fsync) before `append` returns.
final class AppendOnlyLog: Sendable {
    let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor < 0 { throw ValidationError("cannot open \(path): errno \(errno)") }
    }

    deinit { close(descriptor) }

    /// Appends and syncs; `false` on any failure.
    func append(_ line: String) -> Bool {
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        return written == bytes.count && fsync(descriptor) == 0
    }
}
