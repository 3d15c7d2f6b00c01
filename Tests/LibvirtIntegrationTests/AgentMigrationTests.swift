import Foundation
import Testing
import VEMTestSupport
import VEMAgent
import VEMLibvirt
import VEMProtocol

/// Live migration on the Manager's command: a real `vem agent` bound to one of two libvirtd instances runs
/// `vm.create` (a real QEMU TCG guest) and `vm.migrate` sent through the bus; a second agent bound to the other
/// daemon lists and destroys the guest there. In the serialized QEMU suite: never two TCG guests at once.
extension QEMUGuestTests {
    @Suite struct AgentMigrationTests {
        @Test(.timeLimit(.minutes(3)))
        func theManagerMigratesARunningGuestThroughTheBus() async throws {
            let guest = try TestGuest.locate()
            try await withScratch("agent-migrate") { dir in
                let started = ContinuousClock.now
                try await withLibvirtd(dir, count: 2) { daemons in
                    print("agent migration: two libvirtd up after \(seconds(since: started))")
                    let console = Console(path: dir.appendingPathComponent("console.log").path)
                    // The console path is written into the template file itself (no site placeholder needed).
                    let template = dir.appendingPathComponent("atlas.xml").path
                    try qemuGuestTemplate.replacingOccurrences(of: "{{console_log}}", with: console.path)
                        .write(toFile: template, atomically: true, encoding: .utf8)
                    let manager = try await ManagerHarness(token: "t0k3n")
                    var agents: [AgentProcess] = []
                    defer { for a in agents where a.status == nil { kill(a.pid, SIGKILL) } }  // not reaped: ours
                    do {
                        for (name, daemon) in [("hv-src", daemons[0]), ("hv-dst", daemons[1])] {
                            let config = dir.appendingPathComponent("\(name).ini").path
                            try hypervisorAgentConfig(
                                name: name, port: manager.port, uri: daemon.uri, template: template,
                                extraGroupLines: "kernel = \(guest.kernel)\ninitrd = \(guest.initrd)\n",
                                migrationDestinations: daemons.map(\.uri)
                            ).write(toFile: config, atomically: true, encoding: .utf8)
                            agents.append(
                                try await AgentProcess.start(
                                    config: config, logPath: dir.appendingPathComponent("\(name).log").path))
                        }
                        try await scenario(
                            manager: manager, daemons: daemons, console: console, started: started)
                    } catch {
                        for a in agents { print("--- agent \(a.pid) log:\n\(a.log)") }
                        for a in agents { await a.stop() }
                        await manager.shutdown()
                        throw error
                    }
                    for a in agents { await a.stop() }
                    await manager.shutdown()
                }
                print("agent migration: total with daemons stopped \(seconds(since: started))")
            }
        }

        private func scenario(
            manager: ManagerHarness, daemons: [Libvirtd], console: Console, started: ContinuousClock.Instant
        ) async throws {
            try await eventually("both joins", timeout: .seconds(60)) {
                manager.joined("hv-src") && manager.joined("hv-dst")
            }
            let created = try await manager.run("vm.create", ["group": "atlas", "vm": "atlas-m2"], on: "hv-src", timeout: 90)
            #expect(created.status == .ok, "\(created.error ?? "")")
            try #require(created.status == .ok)
            try await console.waitFor("GUEST BOOTED OK", timeout: .seconds(90))
            try await eventually("ticks before migration", timeout: .seconds(30)) { console.lastTick >= 1 }
            print("agent migration: guest booted after \(seconds(since: started))")

            let t0 = ContinuousClock.now
            let migrated = try await manager.run(
                "vm.migrate", ["vm": "atlas-m2", "to": "\(daemons[1].uri)", "migrate_uri": "tcp://127.0.0.1"], on: "hv-src",
                timeout: 90)
            #expect(migrated.status == .ok, "\(migrated.error ?? "")")
            print("agent migration: vm.migrate through the bus took \(seconds(since: t0))")

            // Gone from the source agent's list; on the destination daemon, running, with VEM's metadata.
            let onSource = try vmList(try await manager.run("vm.list", ["all": true], on: "hv-src"))
            #expect(onSource.isEmpty, "the source still has \(onSource.keys.sorted())")
            let direct = try await LibvirtConnection.open(daemons[1].uri)
            let info = try await direct.domain(named: "atlas-m2")
            await direct.close()
            #expect(info?.state == .running)
            #expect(info?.instance?.group == "atlas" && info?.instance?.vmID == "atlas-m2")
            let onDestination = try vmList(try await manager.run("vm.list", [:], on: "hv-dst"))
            #expect(onDestination["atlas-m2"]?["vm"] == .string("atlas-m2"))
            let before = console.lastTick
            try await eventually("ticks after migration", timeout: .seconds(30)) { console.lastTick > before }

            // The destination's agent reports the incoming guest to the Manager.
            try await eventually("the destination's started/migrated event", timeout: .seconds(30)) {
                manager.clientEvents(from: "hv-dst").contains {
                    $0.kind == "vm.lifecycle" && $0.string("domain") == "atlas-m2" && $0.string("event") == "started"
                        && $0.string("detail") == "migrated" && $0.string("group") == "atlas"
                }
            }

            let destroyed = try await manager.run("vm.destroy", ["vm": "atlas-m2"], on: "hv-dst", timeout: 60)
            #expect(destroyed.status == .ok, "\(destroyed.error ?? "")")
            let left = try vmList(try await manager.run("vm.list", ["all": true], on: "hv-dst"))
            #expect(left.isEmpty, "the destination still has \(left.keys.sorted())")
        }
    }
}
