import Testing
import VEMCore

@testable import VEMConfig

/// `[manager] operation_timeout`, `boot_timeout` and `host_list_interval`: how the Manager heals its view.
@Suite struct HealingSettingsTests {
    static func manager(_ text: String) -> (ManagerSettings?, [Diagnostic]) {
        let result = ConfigLoader.load([ConfigSource(name: "site.ini", bytes: Array(("[manager]\n" + text).utf8))])
        return (result.configuration?.manager, result.diagnostics)
    }

    @Test func theDefaultsAreFiveMinutesTenMinutesAndAMinute() {
        let settings = ManagerSettings()
        #expect(settings.operationTimeout == 300 && settings.bootTimeout == 600 && settings.hostListInterval == 60)
        #expect(settings.strayNodeGrace == 180)
    }

    @Test func theKeysTakeSecondsOrDurations() throws {
        let (settings, diagnostics) = Self.manager(
            "operation_timeout = 2m\nboot_timeout = 900\nhost_list_interval = 30s\nstray_node_grace = 1m\n")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let m = try #require(settings)
        #expect(m.operationTimeout == 120 && m.bootTimeout == 900 && m.hostListInterval == 30)
        #expect(m.strayNodeGrace == 60)
    }

    @Test func aZeroTimeoutIsRefused() {
        let (settings, diagnostics) = Self.manager("boot_timeout = 0\n")
        #expect(settings == nil)
        #expect(diagnostics.contains { $0.message.contains("'boot_timeout' must be between 1 and 604800 seconds") })
    }
}

/// `[manager] max_connections_per_address`: guests behind one NAT address share one address's connections.
@Suite struct ConnectionCapSettingsTests {
    @Test func theCapIs64UnlessSet() throws {
        #expect(ManagerSettings().maxConnectionsPerAddress == 64)
        let (settings, diagnostics) = HealingSettingsTests.manager("max_connections_per_address = 500\n")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(try #require(settings).maxConnectionsPerAddress == 500)
    }

    @Test func zeroIsRefusedWithItsRange() {
        let (settings, diagnostics) = HealingSettingsTests.manager("max_connections_per_address = 0\n")
        #expect(settings == nil)
        #expect(diagnostics.contains { $0.message.contains("max_connections_per_address") })
    }
}
