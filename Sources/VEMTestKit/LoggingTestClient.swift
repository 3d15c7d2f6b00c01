import Foundation
import Logging
import VEMBus
import VEMHub
import VEMNATS
import VEMProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// One Client for integration tests and benchmarks (`vem bus-client`, `vem manager-test-client`): it executes each
/// command by appending `seq name` to a log file, fsync'd before the result is reported, so a test can SIGKILL
/// it (or the Manager) at any moment and check that no command ran twice or out of order; it answers
/// `get_property` with fixed readings.
public struct LoggingTestClient: Sendable {
    /// The bus it connects over.
    public enum Transport: Sendable {
        /// The embedded hub at `host:port`, reconnecting with backoff from 20 ms up to `maximumBackoff`.
        case hub(host: String, port: Int, maximumBackoff: Duration)
        /// NATS: the servers, the user and password, and the site.
        case nats(servers: [String], user: String?, password: String?, site: String)
    }

    /// Who it is on the bus.
    public var identity: ClientIdentity
    /// The token it presents.
    public var token: String
    /// The file it appends `seq name` lines to (created if missing).
    public var logPath: String
    /// How long each command takes after its line is written.
    public var commandDelay: Duration = .zero
    /// The heartbeat interval until the Manager announces its own.
    public var heartbeatInterval: Duration
    /// The bus.
    public var transport: Transport
    /// The readings it answers a `get_property` with.
    public var answer: @Sendable (GetProperty) -> [PropertyReading]

    /// A test Client; see the properties for the parameters.
    public init(
        identity: ClientIdentity, token: String, logPath: String, heartbeatInterval: Duration, transport: Transport,
        answer: @escaping @Sendable (GetProperty) -> [PropertyReading]
    ) {
        self.identity = identity
        self.token = token
        self.logPath = logPath
        self.heartbeatInterval = heartbeatInterval
        self.transport = transport
        self.answer = answer
    }

    /// Runs the Client until its task is cancelled (it then says `bye`) or the bus gives up.
    /// - Throws: When the log cannot be opened or the bus refuses the Client.
    public func run() async throws {
        let file = try AppendOnlyLog(path: logPath)
        let delay = commandDelay
        let answer = answer
        var logger = Logger(label: "vem.test-client")
        logger.logLevel = .warning
        let handlers = ClientHandlers(
            execute: { command in
                let ok = file.append("\(command.seq) \(command.name)\n")
                if delay > .zero { try? await Task.sleep(for: delay) }
                return CommandResult(seq: command.seq, status: ok ? .ok : .failed, error: ok ? nil : "log write failed")
            },
            properties: { request in PropertyReport(requestID: request.requestID, readings: answer(request)) })
        switch transport {
        case .hub(let host, let port, let maximumBackoff):
            let client = HubClient(
                configuration: HubClientConfiguration(
                    host: host, port: port, heartbeatInterval: heartbeatInterval,
                    backoff: .init(initial: .milliseconds(20), maximum: maximumBackoff)),
                identity: identity, token: token, handlers: handlers, logger: logger)
            try await client.run()
        case .nats(let servers, let user, let password, let site):
            let client = try NATSClient(
                configuration: NATSClientConfiguration(
                    connection: NATSConnectionOptions(servers: servers, user: user, password: password),
                    site: site, heartbeatInterval: heartbeatInterval),
                identity: identity, token: token, handlers: handlers, logger: logger)
            try await client.run()
        }
    }
}

/// An append-only file whose every line is on disk (fsync) before `append` returns.
public final class AppendOnlyLog: Sendable {
    let descriptor: Int32

    /// Opens (or creates) `path` for appending.
    /// - Throws: ``VEMBus/BusError`` when it cannot be opened.
    public init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor < 0 { throw BusError(.transport, "cannot open \(path): errno \(errno)") }
    }

    deinit { close(descriptor) }

    /// Appends and syncs; `false` on any failure.
    public func append(_ line: String) -> Bool {
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        return written == bytes.count && fsync(descriptor) == 0
    }
}
