import Foundation
import Logging
import Synchronization
import VEMBus
import VEMNATS
import VEMProtocol
import VEMTestKit

/// A scratch directory per test.
struct Scratch {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("vem-nats-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

struct WaitTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(10), _ condition: @Sendable () async -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        guard ContinuousClock.now < deadline else { throw WaitTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Collects a stream's elements.
final class Recorder<Element: Sendable>: Sendable {
    private let storage = Mutex<[Element]>([])
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(_ stream: AsyncStream<Element>) {
        let task = Task { [self] in for await element in stream { append(element) } }
        self.task.withLock { $0 = task }
    }

    var all: [Element] { storage.withLock { $0 } }
    func append(_ element: Element) { storage.withLock { $0.append(element) } }
}

/// A line log of executed commands.
final class Lines: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: [String] { storage.withLock { $0 } }
}

func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

/// A site with a few per-Client users on real servers: the Manager's bus and helpers to start Clients.
struct NATSSite {
    static let site = "t1"
    let servers: [NATSServerProcess]
    let accounts: NATSAccountsConfig
    let scratch: Scratch

    static func start(nodes: Int, clients: [NATSAccountsConfig.Client]) async throws -> NATSSite {
        let scratch = try Scratch()
        let accounts = try NATSAccountsConfig(site: site, clients: clients)
        let servers = try await NATSServerProcess.startCluster(count: nodes, body: accounts.text, directory: scratch.path)
        return NATSSite(servers: servers, accounts: accounts, scratch: scratch)
    }

    func options(user: String, servers urls: [String]? = nil, name: String = "vem") -> NATSConnectionOptions {
        NATSConnectionOptions(
            servers: urls ?? [servers[0].url], user: user, password: accounts.password(user), name: name,
            sharedDelivery: true, noRandomize: true)
    }

    func manager(heartbeat: Duration = .seconds(1), system: Bool = true) throws -> NATSManagerBus {
        try NATSManagerBus(
            configuration: NATSBusConfiguration(
                connection: options(user: NATSAccountsConfig.managerUser),
                site: Self.site, engine: .init(admission: Admission(sharedToken: "tok"), heartbeatInterval: heartbeat),
                system: system ? options(user: NATSAccountsConfig.systemUser) : nil),
            logger: quietLogger("vem.nats.test"))
    }

    func client(_ name: String, group: String? = nil, servers urls: [String]? = nil, log: Lines) throws -> NATSClient {
        let identity = ClientIdentity(
            name: name, role: .dom0, host: "h", group: group, version: "1.0.0",
            incarnation: UInt64.random(in: 1...UInt64.max))
        return try NATSClient(
            configuration: NATSClientConfiguration(
                connection: options(user: name, servers: urls), site: Self.site, heartbeatInterval: .seconds(1)),
            identity: identity, token: "tok",
            handlers: ClientHandlers(
                execute: { command in
                    log.append("\(command.seq) \(command.name)")
                    return CommandResult(seq: command.seq, status: .ok)
                },
                properties: { request in
                    PropertyReport(
                        requestID: request.requestID,
                        readings: [PropertyReading(name: "name", timestampMilliseconds: 0, value: .string(name))])
                }),
            logger: quietLogger("vem.nats.test.client"))
    }

    func stop() async {
        for server in servers { await server.stop() }
        scratch.cleanup()
    }
}

extension BusEvent {
    var joinName: String? { if case .join(let identity, _) = self { identity.name } else { nil } }
    var disconnectName: String? { if case .disconnect(let name, _) = self { name } else { nil } }
}
