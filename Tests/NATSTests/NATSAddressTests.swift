import Foundation
import Testing
import VEMBus
import VEMNATS

/// With a system user, the Manager learns the address a Client's NATS connection came from (the `$SYS` CONNECT
/// advisory) and puts it in the Client's identity, as the hub does with its peer address.
@Suite struct NATSAddressTests {
    @Test func aJoinCarriesTheClientsAddressFromTheConnectAdvisory() async throws {
        let site = try await NATSSite.start(nodes: 1, clients: [.init(name: "vm1")])
        defer { Task { await site.stop() } }
        let bus = try site.manager()
        try await bus.start()
        let client = try site.client("vm1", log: Lines())
        let task = Task { try await client.run() }
        try await waitUntil("vm1 joined") { bus.members().contains { $0.name == "vm1" } }
        var identity = try #require(bus.members().first { $0.name == "vm1" })
        if identity.address == nil {
            // The advisory comes on the Manager's system connection and nothing orders it before the hello on
            // its main one (it almost always is first): a new session on the same connection finds it known.
            client.dropSession()
            try await waitUntil("a new session with the address") {
                bus.members().first { $0.name == "vm1" }?.address != nil
            }
            identity = try #require(bus.members().first { $0.name == "vm1" })
        }
        #expect(identity.address == "127.0.0.1")
        task.cancel()
        _ = try? await task.value
        await bus.shutdown()
        await site.stop()
    }
}
