import Foundation
import Testing
import VEMBus
import VEMProtocol

/// Everything the conformance suite needs from one bus implementation: the Manager side, Clients in this
/// process, killable Clients (real processes on the hub), and raw connections for bad input.
protocol BusHarness: Sendable {
    /// A description for test names.
    var name: String { get }
    /// The Manager side.
    var manager: any ManagerBus { get }
    /// Every Manager event.
    var events: EventRecorder<BusEvent> { get }
    /// The token Clients must present.
    var token: String { get }
    /// Starts a Client in this process that executes commands into `log` and answers `get_property` with a
    /// `name` reading.
    func startClient(name: String, group: String?, token: String?, version: String, log: CommandLog) async throws
        -> any TestClient
    /// Starts a Client that can be killed like a process (SIGKILL on the hub), appending `seq name` lines to `logFile`.
    func startKillableClient(name: String, logFile: URL, commandDelayMilliseconds: Int) async throws
        -> any KillableClient
    /// Opens a connection for raw bytes.
    func openRaw() async throws -> any RawPeer
    /// Stops everything.
    func shutdown() async
    /// The Manager's view of a Client's command stream, for a failure message.
    func diagnose(_ client: String) -> String
}

extension BusHarness {
    func diagnose(_ client: String) -> String { "" }

    func startClient(name: String, group: String? = nil, log: CommandLog = CommandLog()) async throws
        -> any TestClient
    {
        try await startClient(name: name, group: group, token: nil, version: "1.0.0", log: log)
    }
}

/// A Client running in the test process.
protocol TestClient: Sendable {
    var identity: ClientIdentity { get }
    var events: EventRecorder<ClientBusEvent> { get }
    /// Drops the connection (the Client reconnects with the same incarnation).
    func dropConnection()
    /// Leaves gracefully (bye) and stops.
    func stop() async
    /// How `run()` ended (for rejected clients): the error, if it threw.
    func runResult() async -> (any Error)?
    /// The Client's view of its command stream, for a failure message.
    var diagnosis: String { get }
}

extension TestClient {
    var diagnosis: String { "" }
}

/// A Client that can die abruptly.
protocol KillableClient: Sendable {
    /// SIGKILL (hub) or the in-memory equivalent.
    func kill() async
}

/// A connection carrying raw bytes to the Manager.
protocol RawPeer: Sendable {
    func write(_ bytes: [UInt8]) async
    /// Closes the sending side.
    func closeWrite() async
}

/// Executes a command into a log: the Runner used by every test client.
func loggingHandlers(name: String, log: CommandLog) -> ClientHandlers {
    ClientHandlers(
        execute: { command in
            log.append("\(command.seq) \(command.name)")
            return CommandResult(seq: command.seq, status: .ok)
        },
        properties: { request in
            PropertyReport(
                requestID: request.requestID,
                readings: [PropertyReading(name: "name", timestampMilliseconds: 0, value: .string(name))])
        })
}

/// A Client bus running in a task of this test process (either transport).
final class RunningClient: TestClient, KillableClient {
    let identity: ClientIdentity
    let events: EventRecorder<ClientBusEvent>
    private let drop: @Sendable () -> Void
    private let die: @Sendable () -> Void
    private let task: Task<(any Error)?, Never>

    /// Starts `bus.run()`; `drop` cuts the connection, `kill` ends the simulated process.
    init(
        _ bus: some ClientBus, identity: ClientIdentity, drop: @escaping @Sendable () -> Void,
        kill: @escaping @Sendable () -> Void = {}
    ) {
        self.identity = identity
        self.drop = drop
        die = kill
        events = EventRecorder(bus.events)
        task = Task {
            do {
                try await bus.run()
                return nil
            } catch {
                return error
            }
        }
    }

    func dropConnection() { drop() }
    func stop() async {
        task.cancel()
        _ = await task.value
    }
    func kill() async {
        die()
        _ = await task.value
    }
    func runResult() async -> (any Error)? { await task.value }
}

/// Waits for every outcome, in order.
func awaitOutcomes(of commands: [PendingCommand], within timeout: Duration = .seconds(30)) async throws -> [CommandOutcome] {
    do {
        return try await withTimeout(timeout, "\(commands.count) command outcomes") {
            var outcomes: [CommandOutcome] = []
            for command in commands { outcomes.append(await command.outcome()) }
            return outcomes
        }
    } catch {
        let missing = commands.filter { $0.currentOutcome == nil }
        let names = missing.prefix(20).map { "\($0.client)#\($0.seq)" }.joined(separator: ", ")
        Issue.record("\(missing.count) of \(commands.count) commands have no outcome: \(names)")
        throw error
    }
}
