import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VEMBus
import VEMHub
import VEMProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// The conformance harness for the embedded hub: real TCP on 127.0.0.1 (port 0), Clients in this process on a
/// shared event loop group, killable Clients as real `vem bus-client` processes.
final class HubHarness: BusHarness {
    let name = "hub"
    let token = "s3cret-hub"
    let server: HubServer
    let port: Int
    let events: EventRecorder<BusEvent>
    let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    private let processes = Mutex<[(Process, Pipe)]>([])
    var manager: any ManagerBus { server }

    static func make(configure: (inout HubConfiguration) -> Void = { _ in }) async throws -> HubHarness {
        // The product's default heartbeat (5 s): a killed or dropped Client's socket closes, so no conformance
        // scenario waits for a heartbeat timeout, and with 1 s a loaded machine that left a Client's timer 1.5 s
        // late cut it in the middle of a scenario. Tests of the heartbeats set their own interval.
        var configuration = HubConfiguration(
            port: 0,
            engine: .init(admission: Admission(sharedToken: "s3cret-hub"), heartbeatInterval: .seconds(5)),
            // The conformance suite runs 100 Clients, all from loopback.
            maximumConnectionsPerAddress: 1_024)
        configure(&configuration)
        var logger = Logger(label: "vem.hub.test")
        logger.logLevel = .error
        let server = HubServer(configuration: configuration, logger: logger)
        let port = try await server.start()
        return HubHarness(server: server, port: port)
    }

    private init(server: HubServer, port: Int) {
        self.server = server
        self.port = port
        events = EventRecorder(server.events)
    }

    func clientConfiguration() -> HubClientConfiguration {
        HubClientConfiguration(
            port: port, heartbeatInterval: .seconds(5), backoff: .init(initial: .milliseconds(10), maximum: .milliseconds(200)))
    }

    func startClient(name: String, group: String?, token: String?, version: String, log: CommandLog) async throws
        -> any TestClient
    {
        let identity = ClientIdentity(
            name: name, role: .domU, host: "h", group: group, version: version,
            incarnation: UInt64.random(in: 1...UInt64.max))
        var logger = Logger(label: "vem.hub.test.client")
        logger.logLevel = .error
        let client = HubClient(
            configuration: clientConfiguration(), identity: identity, token: token ?? self.token,
            handlers: loggingHandlers(name: name, log: log), logger: logger, eventLoopGroup: clientGroup)
        return RunningClient(client, identity: identity, drop: { client.dropConnection() })
    }

    static var vemExecutable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vem")
    }

    func startKillableClient(name: String, logFile: URL, commandDelayMilliseconds: Int) async throws
        -> any KillableClient
    {
        let process = Process()
        process.executableURL = Self.vemExecutable
        process.arguments = [
            "bus-client", "--connect", "127.0.0.1:\(port)", "--name", name, "--token", token, "--log", logFile.path,
            "--command-delay-ms", "\(commandDelayMilliseconds)",
        ]
        // The client exits at end of file on its standard input: it cannot outlive this test process.
        let lifeline = Pipe()
        process.standardInput = lifeline
        try process.run()
        processes.withLock { $0.append((process, lifeline)) }
        return ProcessClient(process: process)
    }

    func openRaw() async throws -> any RawPeer {
        let channel = try await ClientBootstrap(group: clientGroup).connect(host: "127.0.0.1", port: port).get()
        return TCPRawPeer(channel: channel)
    }

    func shutdown() async {
        for (process, lifeline) in processes.withLock({ $0 }) {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            try? lifeline.fileHandleForWriting.close()
        }
        await server.shutdown()
        try? await clientGroup.shutdownGracefully()
    }
}

struct ProcessClient: KillableClient {
    let process: Process
    func kill() async {
        Glibc.kill(process.processIdentifier, SIGKILL)
    }
}

struct TCPRawPeer: RawPeer {
    let channel: any Channel
    func write(_ bytes: [UInt8]) async {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try? await channel.writeAndFlush(buffer)
    }
    func closeWrite() async { try? await channel.close(mode: .output) }
}
