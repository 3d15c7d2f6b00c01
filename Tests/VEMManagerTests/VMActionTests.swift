import Foundation
import Testing
import VEMBus
import VEMManager
import VEMProtocol

/// A trigger's `vm.*` actions: one VM operation through the pool's reconciler, journaled with the trigger.
@Suite struct VMActionTests {
    static let configuration = """
        [manager]
        default_triggers = no

        [group:B]
        share = 100
        vm_vcpus = 2
        vm_memory_mib = 2048

        [query]
        expr = { True }
        cmd = { sender.send_get_property() }
        ticks = 5

        [make]
        expr = { len(manager.clients) == 2 }
        cmd = {
            vm.create("B")
            vm.create(manager.groups[0], host="nowhere")
            vm.drain("B-vm-77")
        }
        ticks = 10

        [unmake]
        expr = { True }
        cmd = { vm.destroy(vm="B-vm-1") }
        ticks = 15
        """

    @Test func aTriggerCreatesAndDestroysAVMByName() async throws {
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            let hosts = [PoolFakes.dom0(h.bus, "h1"), PoolFakes.dom0(h.bus, "h2")]
            try await h.with(hosts) {
                // Properties first (the hosts' free room, at t=5), then the trigger at t=10.
                await h.advance(by: 5)
                await waitUntil("hypervisor properties") {
                    h.snapshot.clients["h1"]?.properties["hypervisor"] != nil
                        && h.snapshot.clients["h2"]?.properties["hypervisor"] != nil
                }
                await h.advance(by: 5)
                await waitUntil("vm.create done") {
                    ((try? await h.journal.allCommands()) ?? []).contains { $0.name == "vm.create" && $0.state == .done }
                }
                let creates = try await h.journal.allCommands().filter { $0.name == "vm.create" }
                #expect(creates.count == 1)
                // Equal room: the first host by name.
                #expect(creates.first?.client == "h1" && creates.first?.trigger == "make")
                // The trigger's three actions are journaled in turn; the create's result may come back before the
                // refusals are written, so wait for the last of them.
                await waitUntil("the trigger's three decisions journaled") {
                    ((try? await h.journal.recentDecisions()) ?? []).contains { $0.action == "vm.drain(B-vm-77)" }
                }
                let decisions = try await h.journal.recentDecisions()
                let create = try #require(decisions.first { $0.action == "create" })
                #expect(create.vm == "B-vm-1" && create.group == "B" && create.trigger == "make")
                #expect(create.reason == "asked by trigger make")
                #expect(decisions.contains { $0.action == "vm.create(B, host=nowhere)" && $0.reason.contains("no Dom0 Client named 'nowhere'") })
                #expect(decisions.contains { $0.action == "vm.drain(B-vm-77)" && $0.reason == "refused: no VM named 'B-vm-77' in the pool" })

                // t=15: destroyed (not a batch node yet: straight to vm.destroy on its host).
                await h.advance(by: 5)
                await waitUntil("vm.destroy done") {
                    ((try? await h.journal.allCommands()) ?? []).contains { $0.name == "vm.destroy" && $0.state == .done }
                }
                let destroy = try #require(try await h.journal.allCommands().first { $0.name == "vm.destroy" })
                #expect(destroy.client == "h1" && destroy.trigger == "unmake")
                // (The pool's timer also lists each host's domains: `vm.list`.)
                #expect(hosts[0].executedCommands.map(\.name).filter { $0 != "vm.list" } == ["vm.create", "vm.destroy"])
                await waitUntil("the VM gone from the pool") {
                    let body = await OperatorAPI(manager: h.manager).get("/v1/vms").body
                    return (try? JSONDecoder().decode([VMReport].self, from: body))?.isEmpty == true
                }
            }
        }
    }

    @Test func badArgumentsAreTriggerErrors() async throws {
        let site = try loadSite(
            """
            [manager]
            default_triggers = no

            [group:B]
            share = 100

            [bad]
            expr = { True }
            cmd = { vm.migrate("B-vm-1") }
            ticks = 5
            """)
        try await Harness.run(site: site) { h in
            await h.advance(by: 5)
            await waitUntil("the error counted") { (h.stats("bad")?.errors ?? 0) == 1 }
            #expect(h.stats("bad")?.lastError?.contains("vm.migrate() needs 'host'") == true)
        }
    }
}
