import Testing
import VEMBus
import VEMConfig
import VEMHub

@testable import VEMManager

/// What `[manager]` says about the hub reaches the hub the Manager's assembly builds.
@Suite struct BusEndpointTests {
    @Test func theConnectionCapPerAddressReachesTheHub() throws {
        var settings = ManagerSettings()
        settings.maxConnectionsPerAddress = 500
        let endpoint = try ManagerBusEndpoint.make(
            settings, engine: ManagerEngine.Configuration(), inboundRate: 1_000, inboundBurst: 100)
        let hub = try #require(endpoint.bus as? HubServer)
        #expect(hub.configuration.maximumConnectionsPerAddress == 500)
        #expect(hub.configuration.maximumConnections >= 1)
    }
}
