import Foundation
import Logging
import Synchronization
import Testing
import VEMBus
import VEMNATS
import VEMProtocol
import VEMTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// The conformance suite (Conformance.swift) on the NATS bus, on a single nats-server and on a real 3-node
/// cluster started in a scratch directory (the Manager on n1, the Clients spread over n2 and n3), per-Client
/// users from `NATSAccountsConfig`, the Manager following `$SYS` DISCONNECT events. About 2–4 s per test.
@Suite("Bus conformance on NATS")
struct NATSConformanceTests {
    @Test(arguments: [1, 3]) func membership(nodes: Int) async throws {
        try await NATSHarness.with(nodes: nodes) { try await Conformance.membership($0) }
    }

    @Test(arguments: [1, 3]) func killAndRestart(nodes: Int) async throws {
        try await NATSHarness.with(nodes: nodes) { try await Conformance.killAndRestart($0) }
    }

    @Test(arguments: [1, 3]) func orderedCommandsUnderDisconnects(nodes: Int) async throws {
        try await NATSHarness.with(nodes: nodes) { try await Conformance.orderedCommandsUnderDisconnects($0) }
    }

    @Test(arguments: [1, 3]) func broadcastToGroup(nodes: Int) async throws {
        try await NATSHarness.with(nodes: nodes) { try await Conformance.broadcastToGroup($0) }
    }

    @Test(arguments: [1, 3]) func badInputIsContained(nodes: Int) async throws {
        try await NATSHarness.with(nodes: nodes) { try await Conformance.badInputIsContained($0) }
    }
}

/// The conformance harness for NATS.
final class NATSHarness: BusHarness {
    let name = "nats"
    func diagnose(_ client: String) -> String { bus.engine.streamDescription(of: client) ?? "never joined" }
    let token = "s3cret-nats"
    static let site = "conf"
    let servers: [NATSServerProcess]
    let accounts: NATSAccountsConfig
    let bus: NATSManagerBus
    let events: EventRecorder<BusEvent>
    let scratch: ScratchDirectory
    private let processes = Mutex<[(Process, Pipe)]>([])
    private let raws = Mutex<[NATSConnection]>([])
    private let clientCount = Atomic<Int>(0)
    var manager: any ManagerBus { bus }

    /// The Clients the suite uses, with their groups (each gets its own NATS user and permissions).
    static var clients: [NATSAccountsConfig.Client] {
        var list: [NATSAccountsConfig.Client] = [
            .init(name: "alpha", group: "atlas"), .init(name: "beta"), .init(name: "gamma"), .init(name: "good"),
            .init(name: "intruder"), .init(name: "ancient"),
        ]
        list += (0..<100).map { .init(name: "c\($0)", group: $0 % 2 == 0 ? "even" : "odd") }
        list += (0..<6).map { .init(name: "g\($0)", group: $0 < 3 ? "atlas" : "cms") }
        return list
    }

    /// Runs `body` on a new harness, which is shut down (its servers stopped) however `body` ends.
    static func with(nodes: Int, _ body: (NATSHarness) async throws -> Void) async throws {
        let bus = try await make(nodes: nodes)
        do {
            try await body(bus)
        } catch {
            await bus.shutdown()
            throw error
        }
        await bus.shutdown()
    }

    /// Starts `nodes` servers (1: a single server; 3: a cluster) and the Manager's bus on the first.
    static func make(nodes: Int = 3) async throws -> NATSHarness {
        let scratch = try ScratchDirectory()
        let accounts = try NATSAccountsConfig(site: site, clients: clients)
        let servers = try await NATSServerProcess.startCluster(
            count: nodes, body: accounts.text, directory: scratch.url.path)
        var logger = Logger(label: "vem.nats.test")
        logger.logLevel = .error
        let bus = try NATSManagerBus(
            configuration: NATSBusConfiguration(
                connection: NATSConnectionOptions(
                    servers: [servers[0].url], user: NATSAccountsConfig.managerUser,
                    password: accounts.password(NATSAccountsConfig.managerUser), name: "vem-manager"),
                site: site,
                engine: .init(admission: Admission(sharedToken: "s3cret-nats"), heartbeatInterval: .seconds(1)),
                system: NATSConnectionOptions(
                    servers: [servers[0].url], user: NATSAccountsConfig.systemUser,
                    password: accounts.password(NATSAccountsConfig.systemUser), name: "vem-manager-sys")),
            logger: logger)
        do {
            try await bus.start()
        } catch {
            for server in servers { await server.stop() }
            throw error
        }
        return NATSHarness(servers: servers, accounts: accounts, bus: bus, scratch: scratch)
    }

    private init(servers: [NATSServerProcess], accounts: NATSAccountsConfig, bus: NATSManagerBus, scratch: ScratchDirectory) {
        self.servers = servers
        self.accounts = accounts
        self.bus = bus
        self.scratch = scratch
        events = EventRecorder(bus.events)
    }

    /// Client number `i` prefers n2 or n3 (alternating; the only server when there is one), with every node
    /// listed for fail-over.
    func serverList(for index: Int) -> [String] {
        let first = servers.count == 1 ? servers[0].url : servers[1 + index % (servers.count - 1)].url
        return [first] + servers.map(\.url).filter { $0 != first }
    }

    func credentials(_ name: String) throws -> String {
        guard accounts.clients.contains(where: { $0.name == name }) else {
            throw NATSError(.invalidInput, "client \(name) has no NATS user: add it to NATSHarness.clients")
        }
        return accounts.password(name)
    }

    func startClient(name: String, group: String?, token: String?, version: String, log: CommandLog) async throws
        -> any TestClient
    {
        let identity = ClientIdentity(
            name: name, role: .domU, host: "h", group: group, version: version,
            incarnation: UInt64.random(in: 1...UInt64.max))
        var logger = Logger(label: "vem.nats.test.client")
        logger.logLevel = .error
        let client = try NATSClient(
            configuration: NATSClientConfiguration(
                connection: NATSConnectionOptions(
                    servers: serverList(for: clientCount.add(1, ordering: .relaxed).newValue), user: name,
                    password: try credentials(name), sharedDelivery: true, noRandomize: true),
                site: Self.site, heartbeatInterval: .seconds(1)),
            identity: identity, token: token ?? self.token, handlers: loggingHandlers(name: name, log: log),
            logger: logger)
        return NATSTestClient(client: client)
    }

    func startKillableClient(name: String, logFile: URL, commandDelayMilliseconds: Int) async throws
        -> any KillableClient
    {
        let process = Process()
        process.executableURL = HubHarness.vemExecutable
        process.arguments = [
            "bus-client", "--nats", serverList(for: clientCount.add(1, ordering: .relaxed).newValue).joined(separator: ","),
            "--nats-user", "\(name):\(try credentials(name))", "--site", Self.site, "--name", name, "--token", token,
            "--log", logFile.path, "--command-delay-ms", "\(commandDelayMilliseconds)",
        ]
        // The client exits at end of file on its standard input: it cannot outlive this test process.
        let lifeline = Pipe()
        process.standardInput = lifeline
        try process.run()
        processes.withLock { $0.append((process, lifeline)) }
        return ProcessClient(process: process)
    }

    /// Raw payloads are published with the Manager's user (allowed on every subject of the site) to the
    /// subject of the Client their leading `hello` names, else of `raw<N>`.
    func openRaw() async throws -> any RawPeer {
        let connection = try await NATSConnection.connect(
            NATSConnectionOptions(
                servers: [servers[min(1, servers.count - 1)].url], user: NATSAccountsConfig.managerUser,
                password: accounts.password(NATSAccountsConfig.managerUser)))
        raws.withLock { $0.append(connection) }
        let index = clientCount.add(1, ordering: .relaxed).newValue
        return NATSRawPeer(connection: connection, subjects: bus.subjects, fallbackName: "raw\(index)")
    }

    func shutdown() async {
        for (process, lifeline) in processes.withLock({ $0 }) {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            try? lifeline.fileHandleForWriting.close()
        }
        for raw in raws.withLock({ $0 }) { await raw.close() }
        await bus.shutdown()
        for server in servers { await server.stop() }
        scratch.cleanup()
    }
}

final class NATSTestClient: TestClient {
    let client: NATSClient
    let events: EventRecorder<ClientBusEvent>
    let task: Task<(any Error)?, Never>

    init(client: NATSClient) {
        self.client = client
        events = EventRecorder(client.events)
        task = Task {
            do {
                try await client.run()
                return nil
            } catch {
                return error
            }
        }
    }

    var identity: ClientIdentity { client.engine.identity }
    var diagnosis: String { "session=\(client.currentSession) \(client.engine.streamDescription)" }
    func dropConnection() { client.dropSession(reason: "connection dropped by the test") }
    func stop() async {
        task.cancel()
        _ = await task.value
    }
    func runResult() async -> (any Error)? { await task.value }
}

struct NATSRawPeer: RawPeer {
    let connection: NATSConnection
    let subjects: NATSSubjects
    let fallbackName: String

    func write(_ bytes: [UInt8]) async {
        var name = fallbackName
        if bytes.count >= 4 {
            let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
            if bytes.count >= 4 + length, case .hello(let hello)? = try? Message(decodingFrame: Array(bytes[0..<4 + length])) {
                name = hello.name
            }
        }
        var payload: [UInt8] = [0]
        let session = UInt64.random(in: 1...UInt64.max)
        for shift in stride(from: 56, through: 0, by: -8) { payload.append(UInt8(truncatingIfNeeded: session >> UInt64(shift))) }
        try? connection.publish(subjects.manager(name), payload + bytes)
        try? await connection.flush()
    }

    func closeWrite() async {}
}
