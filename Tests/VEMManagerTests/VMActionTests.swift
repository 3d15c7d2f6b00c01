import Foundation
import Testing
import VEMBus
import VEMManager
import VEMProtocol

/// A trigger's `vm.*` actions: one VM operation through the pool's reconciler, journaled with the trigger.
@Suite(.timeLimit(.minutes(2))) struct VMActionTests {
    static let configuration = PoolFakes.configuration(groups: [("B", 100)], query: 5, rebalance: nil) + """


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
                await h.step(by: 5)
                #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
                #expect(h.snapshot.clients["h2"]?.properties["hypervisor"] != nil)
                // t=10: the trigger's job, the command's outcome and what the pool makes of it are done.
                await h.step(by: 5)
                let creates = try await h.journal.allCommands().filter { $0.name == "vm.create" }
                #expect(creates.count == 1)
                // Equal room: the first host by name.
                #expect(creates.first?.client == "h1" && creates.first?.trigger == "make")
                #expect(creates.first?.state == .done)
                let decisions = try await h.journal.recentDecisions()
                let create = try #require(decisions.first { $0.action == "create" })
                #expect(create.vm == "B-vm-1" && create.group == "B" && create.trigger == "make")
                #expect(create.reason == "asked by trigger make")
                #expect(decisions.contains { $0.action == "vm.create(B, host=nowhere)" && $0.reason.contains("no Dom0 Client named 'nowhere'") })
                #expect(decisions.contains { $0.action == "vm.drain(B-vm-77)" && $0.reason == "refused: no VM named 'B-vm-77' in the pool" })

                // t=15: destroyed (not a batch node yet: straight to vm.destroy on its host).
                await h.step(by: 5)
                let destroy = try #require(try await h.journal.allCommands().first { $0.name == "vm.destroy" })
                #expect(destroy.client == "h1" && destroy.trigger == "unmake" && destroy.state == .done)
                // (The pool's timer also lists each host's domains: `vm.list`.)
                #expect(hosts[0].executedCommands.map(\.name).filter { $0 != "vm.list" } == ["vm.create", "vm.destroy"])
                let body = await OperatorAPI(manager: h.manager).get("/v1/vms").body
                #expect(try JSONDecoder().decode([VMReport].self, from: body).isEmpty)
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
            await h.advance(by: 5)  // the pass is over when it returns
            #expect(h.stats("bad")?.errors == 1)
            #expect(h.stats("bad")?.lastError?.contains("vm.migrate() needs 'host'") == true)
        }
    }
}
