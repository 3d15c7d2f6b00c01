import Foundation
import Testing
import VEMBus
import VEMNATS
import VEMProtocol

/// A 3-node nats-server cluster on loopback, started by the test: the Manager on n1, Clients on n2 and n3.
/// Killing n3 with SIGKILL moves its Clients to the surviving nodes without losing, repeating or reordering a
/// command. About 2–3 s.
@Suite("NATS bus on a 3-node cluster")
struct NATSClusterTests {
    @Test func killingANodeLosesNoCommand() async throws {
        let names = (0..<6).map { "k\($0)" }
        let site = try await NATSSite.start(nodes: 3, clients: names.map { .init(name: $0) })
        defer { Task { await site.stop() } }
        let bus = try site.manager()
        try await bus.start()
        let events = Recorder(bus.events)
        let urls = site.servers.map(\.url)
        var logs: [Lines] = []
        var clients: [NATSClient] = []
        var tasks: [Task<Void, any Error>] = []
        for (index, name) in names.enumerated() {
            // Even Clients prefer n2, odd ones n3; every node is listed for fail-over.
            let first = index % 2 == 0 ? urls[1] : urls[2]
            let log = Lines()
            let client = try site.client(name, servers: [first] + urls.filter { $0 != first }, log: log)
            logs.append(log)
            clients.append(client)
            tasks.append(Task { try await client.run() })
        }
        try await waitUntil("six joins") { bus.members().count == 6 }
        let sessionsBefore = clients.map(\.currentSession)

        let perClient = 60
        var pending: [[PendingCommand]] = Array(repeating: [], count: names.count)
        for round in 1...perClient {
            for (index, name) in names.enumerated() {
                pending[index].append(try bus.submit("cmd-\(round)", arguments: [], to: name))
            }
            if round == 20 {
                let started = logs
                try await waitUntil("first commands done") { started.allSatisfy { $0.all.count >= 10 } }
                await site.servers[2].kill()
            }
            if round % 10 == 0 { try await Task.sleep(for: .milliseconds(20)) }  // spread submissions over the failover
        }
        let submitted = pending
        for (index, list) in submitted.enumerated() {
            for command in list {
                let outcome = try await withDeadline(.seconds(20)) { await command.outcome() }
                guard case .result(let result) = outcome else {
                    Issue.record("\(names[index]) seq \(command.seq): \(outcome)")
                    continue
                }
                #expect(result.status == .ok)
            }
            #expect(logs[index].all == (1...perClient).map { "\($0) cmd-\($0)" }, "\(names[index]): once each, in order")
        }
        // n3's Clients reconnected elsewhere with new sessions and were resumed (or never missed).
        for index in stride(from: 1, to: names.count, by: 2) {
            #expect(clients[index].isConnected)
            #expect(clients[index].currentSession != sessionsBefore[index], "\(names[index]) opened a new session")
            #expect(
                events.all.contains(where: { event in
                    if case .join(let identity, resumed: true) = event { identity.name == names[index] } else { false }
                }), "\(names[index]) rejoined its command stream")
        }
        for index in stride(from: 0, to: names.count, by: 2) {
            #expect(clients[index].currentSession == sessionsBefore[index], "\(names[index]) on n2 kept its session")
        }
        #expect(bus.members().count == 6)
        for task in tasks { task.cancel() }
        for task in tasks { try? await task.value }
        try await waitUntil("all left") { bus.members().isEmpty }
        await bus.shutdown()
        await site.stop()
    }
}

/// Awaits `body`, failing after `timeout`.
func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw WaitTimeout(what: "an outcome") }
        return value
    }
}
