import Foundation
import Logging
import Synchronization
import VEMBus
import VEMProtocol
import VEMTestKit

/// The conformance harness for ``InMemoryBus``.
final class InMemoryHarness: BusHarness {
    let name = "memory"
    let token = "s3cret-memory"
    let bus: InMemoryBus
    let events: EventRecorder<BusEvent>
    var manager: any ManagerBus { bus }

    init(faults: InMemoryBus.Faults = .none) {
        var logger = Logger(label: "vem.bus.memory.test")
        logger.logLevel = .error
        bus = InMemoryBus(
            configuration: .init(admission: Admission(sharedToken: "s3cret-memory")), faults: faults, logger: logger)
        events = EventRecorder(bus.events)
    }

    func startClient(name: String, group: String?, token: String?, version: String, log: CommandLog) async throws
        -> any TestClient
    {
        let identity = ClientIdentity(
            name: name, role: .domU, host: "h", group: group, version: version,
            incarnation: UInt64.random(in: 1...UInt64.max))
        let client = bus.makeClient(
            identity: identity, token: token ?? self.token, handlers: loggingHandlers(name: name, log: log))
        return RunningClient(memory: client)
    }

    func startKillableClient(name: String, logFile: URL, commandDelayMilliseconds: Int) async throws
        -> any KillableClient
    {
        let path = logFile.path
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let identity = ClientIdentity(
            name: name, role: .domU, host: "h", version: "1.0.0", incarnation: UInt64.random(in: 1...UInt64.max))
        let client = bus.makeClient(
            identity: identity, token: token,
            handlers: ClientHandlers(execute: { command in
                if let handle = FileHandle(forWritingAtPath: path) {
                    handle.seekToEndOfFile()
                    handle.write(Data("\(command.seq) \(command.name)\n".utf8))
                    try? handle.synchronize()
                    try? handle.close()
                }
                if commandDelayMilliseconds > 0 { try? await Task.sleep(for: .milliseconds(commandDelayMilliseconds)) }
                return CommandResult(seq: command.seq, status: .ok)
            }))
        return RunningClient(memory: client)
    }

    func openRaw() async throws -> any RawPeer { MemoryRawPeer(connection: bus.openRawConnection()) }

    func shutdown() async { bus.shutdown() }
}

extension RunningClient {
    /// Runs an in-memory client.
    convenience init(memory client: InMemoryClient) {
        self.init(
            client, identity: client.engine.identity, drop: { client.dropConnection() }, kill: { client.kill() })
    }
}

struct MemoryRawPeer: RawPeer {
    let connection: InMemoryRawConnection
    func write(_ bytes: [UInt8]) async { connection.write(bytes) }
    func closeWrite() async { connection.closeWrite() }
}
