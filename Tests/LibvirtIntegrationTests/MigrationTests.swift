import Foundation
import Testing
import VEMAgent
import VEMHypervisorPlugins
import VEMLibvirt

/// Live migration of a running QEMU guest between two libvirtd instances on this machine, driven through
/// the `vm.*` command plugins of two agents' Runners.
extension QEMUGuestTests {
    @Suite struct MigrationTests {
        func agent(
            uri: String, template: DomainTemplate, guest: TestGuest, console: String, destinations: Set<String> = []
        ) throws -> (
            HypervisorHost, Runner
        ) {
            var config = HypervisorHost.Configuration(
                uri: uri,
                groups: [
                    "atlas": GroupVMDefinition(
                        template: template, memoryMiB: 256, vcpus: 1, kernel: guest.kernel, initrd: guest.initrd,
                        extra: ["console_log": console])
                ], manager: "127.0.0.1:7070")
            config.shutdownTimeout = .seconds(30)
            // The other libvirtd is reached over its private socket (a query string a Dom0 refuses unless listed).
            config.migrationDestinations = destinations
            let host = HypervisorHost(configuration: config)
            var registry = PluginRegistry()
            try HypervisorPlugins.register(into: &registry, host: host)
            let runner = Runner(registry: registry, allowlist: Allowlist(commands: HypervisorPlugins.commandNames))
            return (host, runner)
        }

        func names(_ outcome: PluginOutcome) throws -> [String: PropertyValue] {
            guard case .array(let items) = try JSONDecoder().decode(PropertyValue.self, from: Data(outcome.output.utf8))
            else {
                return [:]
            }
            var result: [String: PropertyValue] = [:]
            for case .object(let o) in items { if case .string(let n)? = o["name"] { result[n] = .object(o) } }
            return result
        }

        @Test(.timeLimit(.minutes(4)))
        func aRunningGuestMovesToTheOtherHostAndKeepsTicking() async throws {
            let guest = try TestGuest.locate()
            try await withScratch("migrate") { dir in
                let started = ContinuousClock.now
                try await withLibvirtd(dir, count: 2) { daemons in
                    print("migration: two libvirtd up after \(seconds(since: started))")
                    let console = Console(path: dir.appendingPathComponent("console.log").path)
                    let template = try DomainTemplate(
                        qemuGuestTemplate, origin: "atlas.xml", extraPlaceholders: ["console_log"])
                    let (source, runner1) = try agent(
                        uri: daemons[0].uri, template: template, guest: guest, console: console.path,
                        destinations: [daemons[1].uri])
                    let (destination, runner2) = try agent(
                        uri: daemons[1].uri, template: template, guest: guest, console: console.path)
                    let events = EventLog<DomainEvent>()
                    await events.start(try await destination.lifecycleEvents())

                    let created = await runner1.execute(
                        CommandRequest(
                            sequence: 1, name: "vm.create", options: ["group": "atlas", "vm": "atlas-m1"],
                            timeout: .seconds(120)))
                    #expect(created.status == .ok, "\(created.error ?? "")")
                    print("migration: guest defined and started after \(seconds(since: started))")
                    try await console.waitFor("GUEST BOOTED OK", timeout: .seconds(90))
                    try await eventually("ticks before migration", timeout: .seconds(30)) { console.lastTick >= 2 }
                    print("migration: guest booted after \(seconds(since: started))")

                    let before = console.lastTick
                    let t0 = ContinuousClock.now
                    let migrated = await runner1.execute(
                        CommandRequest(
                            sequence: 2, name: "vm.migrate",
                            options: ["vm": "atlas-m1", "to": "\(daemons[1].uri)", "migrate_uri": "tcp://127.0.0.1"],
                            timeout: .seconds(120)))
                    #expect(migrated.status == .ok, "\(migrated.error ?? "")")
                    if migrated.status != .ok {
                        for d in daemons { print("libvirtd \(d.base.lastPathComponent) log tail:\n\(d.logTail)") }
                    }
                    print("migration: vm.migrate took \(seconds(since: t0))")

                    // On the destination, running, with VEM's metadata; gone from the source.
                    let onDestination = try names(await runner2.execute(CommandRequest(sequence: 1, name: "vm.list")))
                    guard case .object(let vm)? = onDestination["atlas-m1"] else {
                        Issue.record("atlas-m1 is not on the destination: \(onDestination)")
                        return
                    }
                    #expect(vm["state"] == .string("running"))
                    #expect(vm["group"] == .string("atlas"))
                    #expect(vm["vm"] == .string("atlas-m1"))
                    #expect(vm["command"] == .string("1"))
                    #expect(vm["persistent"] == .bool(true))
                    let onSource = try names(
                        await runner1.execute(CommandRequest(sequence: 3, name: "vm.list", options: ["all": true])))
                    #expect(onSource.isEmpty, "the source still has \(onSource.keys.sorted())")

                    // The same guest keeps running: its tick counter goes on from where it was (no second boot).
                    try await eventually("ticks after migration", timeout: .seconds(30)) {
                        console.lastTick >= before + 3
                    }
                    #expect(console.text.components(separatedBy: "GUEST BOOTED OK").count == 2)
                    try await eventually("the destination's started/migrated event") {
                        await events.events.contains {
                            $0.domain == "atlas-m1" && $0.kind == .started && $0.detailName == "migrated"
                        }
                    }

                    let destroyed = await runner2.execute(
                        CommandRequest(
                            sequence: 2, name: "vm.destroy", options: ["vm": "atlas-m1"], timeout: .seconds(60)))
                    #expect(destroyed.status == .ok, "\(destroyed.error ?? "")")
                    #expect(destroyed.output.contains("\"shutdown\":\"graceful\""), "\(destroyed.output)")
                    let left = try names(
                        await runner2.execute(CommandRequest(sequence: 3, name: "vm.list", options: ["all": true])))
                    #expect(left.isEmpty)
                    await events.stop()
                    await source.close()
                    await destination.close()
                }
                print("migration: total with daemons stopped \(seconds(since: started))")
            }
        }
    }
}
