import Foundation
import Testing
import VEMBatch
import VEMBus
import VEMConfig
import VEMLibvirt
import VEMManager
import VEMPool
import VEMProtocol
import VEMSite
import VEMTestKit
import VEMTestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `vem host drain` on two real libvirtd hosts: the real Manager (ManagerService: hub, planner, reconciler,
/// operator API over HTTP) creates a QEMU TCG guest on one host through a real `vem agent` Dom0 process, and
/// draining that host through the API makes it live-migrate the running guest to the other, where its console
/// keeps ticking. The batch Client and the guest's DomU Client are in-process test Clients (a guest image with
/// the Client and slurmd inside is issue 19's); the guest's "job" is its console ticker. In the serialized QEMU
/// suite.
extension QEMUGuestTests {
    @Suite struct HostDrainTests {
        static func site() -> String {
            """
            [manager]
            listen = 127.0.0.1:0
            http_listen = 127.0.0.1:0
            default_triggers = no
            operation_timeout = 150

            [group:atlas]
            share = 100
            vm_vcpus = 1
            vm_memory_mib = 256

            [poll]
            expr = { True }
            cmd = { sender.send_get_property() }
            ticks = 2

            [rebalance]
            expr = { True }
            cmd = { policy.rebalance() }
            ticks = 3
            """
        }

        static func agentConfig(
            name: String, port: Int, daemon: Libvirtd, all: [Libvirtd], template: String, guest: TestGuest
        ) -> String {
            """
            [client]
            name = \(name)
            role = dom0
            manager = 127.0.0.1:\(port)
            token = t0k3n
            heartbeat_interval = 2s
            hypervisor = \(daemon.uri)
            allow = vm.create, vm.destroy, vm.list, vm.migrate
            migration_destinations = \(all.map(\.uri).joined(separator: ", "))

            [hypervisor]
            command = hypervisor
            return_type = json
            ticks = 2

            [group:atlas]
            template = \(template)
            vm_memory_mib = 256
            vm_vcpus = 1
            kernel = \(guest.kernel)
            initrd = \(guest.initrd)
            """
        }

        /// A test Client on the hub (the batch system's, or the guest's).
        static func testClient(
            _ identity: ClientIdentity, port: Int, log: String,
            answer: @escaping @Sendable (GetProperty) -> [PropertyReading] = { _ in [] }
        ) -> LoggingTestClient {
            LoggingTestClient(
                identity: identity, token: "t0k3n", logPath: log, heartbeatInterval: .seconds(2),
                transport: .hub(host: "127.0.0.1", port: port, maximumBackoff: .seconds(1)), answer: answer)
        }

        @Test(.timeLimit(.minutes(5)))
        func hostDrainLiveMigratesTheRunningGuestToTheOtherHost() async throws {
            let guest = try TestGuest.locate()
            try await withScratch("host-drain") { dir in
                let started = ContinuousClock.now
                try await withLibvirtd(dir, count: 2) { daemons in
                    let console = Console(path: dir.appendingPathComponent("console.log").path)
                    let template = dir.appendingPathComponent("atlas.xml").path
                    try qemuGuestTemplate.replacingOccurrences(of: "{{console_log}}", with: console.path)
                        .write(toFile: template, atomically: true, encoding: .utf8)
                    let loaded = Site.load([ConfigSource(name: "site.ini", text: Self.site())])
                    let site = try #require(loaded.site, "\(loaded.diagnostics)")
                    var options = ManagerService.Options()
                    options.token = "t0k3n"
                    options.operatorAPI = true
                    options.logger.logLevel = .notice
                    options.routes = MigrationRoutes(
                        uris: ["lv1": daemons[0].uri, "lv2": daemons[1].uri], dataURI: "tcp://127.0.0.1")
                    let httpPort = AsyncStream.makeStream(of: Int.self)
                    options.onListening = { _, http in
                        httpPort.continuation.yield(http)
                        httpPort.continuation.finish()
                    }
                    let service = try await ManagerService.start(site: site, options: options)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await service.run() }
                        defer { group.cancelAll() }
                        var http = 0
                        for await port in httpPort.stream { http = port }
                        var agents: [AgentProcess] = []
                        do {
                            for (name, daemon) in zip(["lv1", "lv2"], daemons) {
                                let config = dir.appendingPathComponent("\(name).ini").path
                                try Self.agentConfig(
                                    name: name, port: service.hubPort, daemon: daemon, all: daemons, template: template,
                                    guest: guest
                                ).write(toFile: config, atomically: true, encoding: .utf8)
                                agents.append(
                                    try await AgentProcess.start(
                                        config: config, logPath: dir.appendingPathComponent("\(name).log").path))
                            }
                            try await scenario(
                                service: service, http: http, daemons: daemons, console: console, dir: dir,
                                group: &group, started: started)
                        } catch {
                            for a in agents { print("--- agent \(a.pid) log:\n\(a.log.suffix(4000))") }
                            for d in daemons { print("--- libvirtd \(d.base.lastPathComponent):\n\(d.logTail)") }
                            for a in agents { await a.stop() }
                            throw error
                        }
                        for a in agents { await a.stop() }
                    }
                }
                print("host drain: total with daemons stopped \(seconds(since: started))")
            }
        }

        private func scenario(
            service: ManagerService, http: Int, daemons: [Libvirtd], console: Console, dir: URL,
            group: inout ThrowingTaskGroup<Void, any Error>, started: ContinuousClock.Instant
        ) async throws {
            let manager = service.manager
            let port = service.hubPort
            // The batch system: one job of atlas waits for a CPU. Commands (register, drain, remove) succeed.
            let demand = try WireValue(
                encoding: BatchSnapshot(time: 0, groups: [GroupDemand(group: "atlas", pendingJobs: 1, pendingCPUs: 1)]))
            let batch = Self.testClient(
                ClientIdentity(name: "batch", role: .batch, host: "batch", version: "1.0.0", incarnation: 1),
                port: port, log: dir.appendingPathComponent("batch.log").path,
                answer: { _ in [PropertyReading(name: "slurm.demand", timestampMilliseconds: 0, value: demand)] })
            group.addTask { try await batch.run() }

            // The planner creates the VM on lv1 (equal room: first by name) through the real Dom0 agent.
            let vm = "atlas-vm-1"
            try await eventually("\(vm) created on lv1", timeout: .seconds(90)) {
                manager.pool.currentVMs().contains { $0.name == vm && $0.host == "lv1" && $0.stage == "booting" }
            }
            try await console.waitFor("GUEST BOOTED OK", timeout: .seconds(120))
            print("host drain: guest booted on lv1 after \(seconds(since: started))")
            // Its Client joins from inside the guest (here, a test Client speaking for it): the node is registered.
            let domU = Self.testClient(
                ClientIdentity(
                    name: vm, role: .domU, host: "lv1", group: "atlas", vmID: vm, version: "1.0.0", incarnation: 1),
                port: port, log: dir.appendingPathComponent("domU.log").path)
            group.addTask { try await domU.run() }
            try await eventually("\(vm) active", timeout: .seconds(60)) {
                manager.pool.currentVMs().contains { $0.name == vm && $0.stage == "active" && !$0.operationPending }
            }
            try await eventually("ticks before the drain", timeout: .seconds(30)) { console.lastTick >= 1 }

            // vem host drain lv1, through the operator API.
            let t0 = ContinuousClock.now
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(http)/v1/hosts/drain?host=lv1")!)
            request.httpMethod = "POST"
            request.setValue("tester", forHTTPHeaderField: "X-VEM-User")
            let (body, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: body, as: UTF8.self))")
            let report = try JSONDecoder().decode(Manager.ActionReport.self, from: body)
            #expect(report.accepted && report.operatorName == "tester@127.0.0.1" && report.commands == 1, "\(report)")

            try await eventually("\(vm) on lv2", timeout: .seconds(150)) {
                manager.pool.currentVMs().contains { $0.name == vm && $0.host == "lv2" && $0.migratingTo == nil }
            }
            print("host drain: \(vm) live-migrated to lv2 in \(seconds(since: t0))")
            // On lv2's daemon, running, with VEM's metadata; gone from lv1's.
            let destination = try await LibvirtConnection.open(daemons[1].uri)
            let info = try await destination.domain(named: vm)
            await destination.close()
            #expect(info?.state == .running)
            #expect(info?.instance?.group == "atlas" && info?.instance?.vmID == vm)
            let source = try await LibvirtConnection.open(daemons[0].uri)
            let left = try await source.domains().filter { $0.instance != nil }
            await source.close()
            #expect(left.isEmpty, "lv1 still has \(left.map(\.name))")
            // The guest kept running: its ticker goes on after the move.
            let before = console.lastTick
            try await eventually("ticks after the migration", timeout: .seconds(30)) { console.lastTick > before }

            // Journaled: the drain by the operator, the migration under the operator's name.
            let decisions = try await manager.journal.recentDecisions(limit: 200)
            #expect(decisions.contains { $0.action == "vem host drain lv1" && $0.trigger == "tester@127.0.0.1" })
            #expect(decisions.contains {
                $0.action == "migrate" && $0.vm == vm && $0.trigger == "tester@127.0.0.1"
                    && $0.reason == "lv1 is being drained: live-migrated to lv2"
            })
            // lv1 takes no new VM meanwhile: the status says so.
            #expect(try await OperatorAPI(manager: manager).status().drainedHosts == ["lv1"])

            // Clean up through the pool: pause the planner (it would recreate the VM), destroy the guest on lv2.
            _ = await manager.perform(.pause, by: "tester@127.0.0.1")
            let destroyed = await manager.perform(.destroyVM(vm), by: "tester@127.0.0.1")
            #expect(destroyed.accepted, "\(destroyed)")
            try await eventually("\(vm) gone", timeout: .seconds(90)) {
                !manager.pool.currentVMs().contains { $0.name == vm }
            }
        }
    }
}
