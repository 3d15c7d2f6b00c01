import Foundation
import Synchronization
import Testing
import VEMAgent
import VEMBus
import VEMHub
import VEMProtocol
import VEMTestSupport

// The Manager side and the `vem agent` process for the tests that drive a hypervisor Client through the bus
// (the agent process is VEMTestSupport's AgentProcess).

/// A Manager in the test process: a real hub server on port 0, recording its events.
final class ManagerHarness: Sendable {
    let server: HubServer
    let port: Int
    let events = Mutex<[BusEvent]>([])
    private let consumer = Mutex<Task<Void, Never>?>(nil)

    init(token: String) async throws {
        let configuration = HubConfiguration(
            host: "127.0.0.1", port: 0,
            engine: .init(admission: Admission(sharedToken: token), heartbeatInterval: .seconds(2)))
        server = HubServer(configuration: configuration)
        port = try await server.start()
        let stream = server.events
        consumer.withLock { $0 = Task { [self] in for await e in stream { self.events.withLock { $0.append(e) } } } }
    }

    /// True once a Client of that name has joined.
    func joined(_ name: String) -> Bool {
        events.withLock { $0.contains { if case .join(let id, _) = $0 { id.name == name } else { false } } }
    }

    /// The `event` messages a Client sent, in order.
    func clientEvents(from name: String) -> [Event] {
        events.withLock { events in
            events.compactMap {
                if case .message(let from, .event(let e)) = $0, from == name { return e } else { return nil }
            }
        }
    }

    /// Submits a command with named arguments and waits for its result.
    func run(_ command: String, _ arguments: [String: WireValue], on client: String, timeout: Int? = nil)
        async throws -> CommandResult
    {
        let named = timeout.map { [NamedValue("timeout", .int(Int64($0)))] } ?? []
        let pending = try server.submit(
            command, arguments: arguments.sorted { $0.key < $1.key }.map { NamedValue($0.key, $0.value) } + named,
            to: client)
        guard case .result(let result) = await pending.outcome() else {
            Issue.record("\(command) on \(client) has no result")
            throw CancellationError()
        }
        return result
    }

    func shutdown() async {
        await server.shutdown()
        consumer.withLock { $0 }?.cancel()
    }
}

extension Event {
    /// The string value of a named attribute.
    func string(_ name: String) -> String? {
        for a in attributes where a.name == name { if case .string(let s) = a.value { return s } }
        return nil
    }
}

/// A `vm.list` output by domain name (each value the domain's JSON object).
func vmList(_ result: CommandResult) throws -> [String: [String: PropertyValue]] {
    guard case .array(let items) = try JSONDecoder().decode(PropertyValue.self, from: Data(result.output.utf8)) else {
        return [:]
    }
    var byName: [String: [String: PropertyValue]] = [:]
    for case .object(let o) in items { if case .string(let n)? = o["name"] { byName[n] = o } }
    return byName
}

/// A hypervisor Client's configuration.
func hypervisorAgentConfig(
    name: String, port: Int, uri: String, template: String, extraGroupLines: String = "",
    migrationDestinations: [String] = []
) -> String {
    """
    [client]
    name = \(name)
    role = dom0
    manager = 127.0.0.1:\(port)
    token = t0k3n
    heartbeat_interval = 2s
    hypervisor = \(uri)
    allow = vm.create, vm.destroy, vm.list, vm.migrate\(migrationDestinations.isEmpty ? "" : "\nmigration_destinations = " + migrationDestinations.joined(separator: ", "))

    [hv_uri]
    command = hypervisor
    parameters = uri
    ticks = 60

    [group:atlas]
    share = 50
    template = \(template)
    vm_memory_mib = 256
    vm_vcpus = 1
    \(extraGroupLines)
    """
}
