import Testing
import VEMConfig
import VEMCore
import VEMPool

@testable import VEMManager

/// The Manager's own checks of issue 17: where a migration may go, and which guest speaks for which VM.
@Suite struct ManagerTrustTests {
    func controller() async -> PoolController {
        let pool = PoolController(
            groups: [GroupDefinition(name: "atlas", share: 50, location: SourceLocation(file: "t.ini", line: 1, column: 1))])
        let (adopted, skipped) = await pool.adopt([
            InventoryRecord(name: "vm-1", group: "atlas", host: "host1", state: "booting", updatedAt: 0)
        ])
        #expect(adopted == 1, "\(skipped)")
        return pool
    }

    @Test func aMigrationGoesOnlyToAnInventoryHostWithAPlainURI() async {
        let pool = await controller()
        await pool.setInventoryHosts(["host1", "host2"])
        func command(_ to: String, template: String = "qemu+ssh://{host}/system") -> PoolCommand {
            PoolCommandMapping(migrationURITemplate: template).command(
                for: PoolOperation(id: 1, vm: "vm-1", kind: .migrateVM(from: "host1", to: to)))
        }
        #expect(await pool.migrationRefusal(to: "host2", command: command("host2")) == nil)
        // The review's probe: a Dom0 named so that pasting its name into {host} adds libvirt options.
        let evil = "evil:2222/system?no_verify=1&x="
        #expect(await pool.migrationRefusal(to: evil, command: command(evil)) != nil)
        #expect(await pool.migrationRefusal(to: "host3", command: command("host3")) != nil, "not in the inventory")
        #expect(
            await pool.migrationRefusal(to: "host2", command: command("host2", template: "qemu+ssh://{host}/system?x=1"))
                != nil)
    }

    @Test func aGuestSpeaksOnlyForItsOwnVM() async {
        let pool = await controller()
        #expect(await pool.guestRefusal(vm: "vm-1", group: "cms", address: "10.0.0.5") != nil, "another group")
        #expect(await pool.guestRefusal(vm: "vm-1", group: "atlas", address: "10.0.0.5") == nil)
        _ = await pool.clientJoined(vm: "vm-1", address: "10.0.0.5", now: 1)
        #expect(await pool.guestRefusal(vm: "vm-1", group: "atlas", address: "10.0.0.5") == nil, "its reconnect")
        #expect(await pool.guestRefusal(vm: "vm-1", group: "atlas", address: "10.0.0.9") != nil, "another address")
        #expect(await pool.guestRefusal(vm: "vm-unknown", group: "atlas", address: "10.0.0.9") == nil)
    }
}

extension PoolController {
    func setInventoryHosts(_ hosts: Set<String>) { inventoryHosts = hosts }
}
