import Synchronization
import VEMBus
import VEMCore
import VEMProtocol
import VEMTestKit

/// A fake Client on the in-memory bus: it answers `get_property` from a mutable table and records the requests
/// and the commands it executes.
final class FakeClient: Sendable {
    /// What the fake Client's handlers share.
    final class Storage: Sendable {
        let table: Mutex<[String: Int64]>
        let requests = Mutex<[GetProperty]>([])
        let executed = Mutex<[Command]>([])
        let holding = Mutex(false)
        init(_ properties: [String: Int64]) { table = Mutex(properties) }
    }

    let identity: ClientIdentity
    let client: InMemoryClient
    private let storage: Storage

    init(
        bus: InMemoryBus, name: String, role: ClientRole = .dom0, incarnation: UInt64 = 1,
        properties: [String: Int64] = [:]
    ) {
        let identity = ClientIdentity(
            name: name, role: role, host: "host-\(name)", version: "1.0.0", incarnation: incarnation)
        let storage = Storage(properties)
        self.identity = identity
        self.storage = storage
        client = bus.makeClient(
            identity: identity, token: "",
            handlers: ClientHandlers(
                execute: { command in
                    storage.executed.withLock { $0.append(command) }
                    while storage.holding.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(2)) }
                    return CommandResult(seq: command.seq, status: .ok, exitCode: 0)
                },
                properties: { request in
                    storage.requests.withLock { $0.append(request) }
                    let values = storage.table.withLock { $0 }
                    let names = values.keys.sorted().filter { request.names.isEmpty || request.names.contains($0) }
                    return PropertyReport(
                        requestID: request.requestID,
                        readings: names.map {
                            PropertyReading(name: $0, timestampMilliseconds: 0, value: .int(values[$0] ?? 0))
                        })
                }))
    }

    /// Changes a property's value (the next `get_property` reports it).
    func set(_ name: String, _ value: Int64) { storage.table.withLock { $0[name] = value } }

    /// While true, commands start (and are acknowledged) but do not finish.
    func hold(_ on: Bool) { storage.holding.withLock { $0 = on } }

    /// `get_property` requests received.
    var requestCount: Int { storage.requests.withLock { $0.count } }

    /// Commands executed, in order.
    var executedCommands: [Command] { storage.executed.withLock { $0 } }
}
