import Foundation
import Testing
import VEMBus
import VEMManager
import VEMProtocol
import VEMRules

/// `manager.vms` is the pool's VMs as the reconciler follows them (stage, group, host, busy), from the moment
/// `vm.create` is sent: a trigger guarded by `len(manager.vms) == 0` creates one VM, not one per tick (when it
/// meant connected DomU Clients, it created a VM every tick until the first guest joined).
@Suite(.timeLimit(.minutes(2))) struct PoolVMsTests {
    static let configuration = PoolFakes.configuration(groups: [("B", 100)], query: 5, rebalance: nil) + """


        [one_vm]
        expr = { len(manager.vms) == 0 and len(manager.clients) == 1 }
        cmd = { vm.create("B") }
        ticks = 10

        [booting]
        expr = {
            len([v for v in manager.vms if v.stage == "booting" and v.group == "B" and v.host == "h1"
                 and not v.busy and not v.client_connected and v.cpus == 2]) == 1
                and manager.groups[0].vms == 1 and manager.hosts[0].vms == 1
        }
        cmd = { log("one VM booting") }
        ticks = 10
        """

    @Test func managerVMsAreThePoolsVMsFromTheirCreation() async throws {
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            let host = PoolFakes.dom0(h.bus, "h1")
            try await h.with([host]) {
                await h.step(by: 5)
                #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
                await h.step(by: 5)
                let created = try await h.journal.allCommands()
                #expect(created.contains { $0.name == "vm.create" && $0.state == .done })
                // Created, its guest not joined yet: still in the pool (booting), so no second create.
                for _ in 0..<3 { await h.step(by: 10) }
                #expect((h.stats("booting")?.fired ?? 0) >= 1, "the booting trigger fired")
                let creates = try await h.journal.allCommands().filter { $0.name == "vm.create" }
                #expect(creates.count == 1)
                #expect(h.stats("one_vm")?.fired == 1)
                #expect(h.stats("booting")?.errors == 0)
                // The snapshot document (what `vem eval --snapshot` reads) carries the same VMs.
                let body = await OperatorAPI(manager: h.manager).get("/v1/snapshot").body
                let document = try JSONDecoder().decode(JSON.self, from: body)
                guard case .object(let top) = document, case .array(let vms)? = top["vms"],
                    case .object(let vm)? = vms.first
                else {
                    Issue.record("no vms in the snapshot: \(String(decoding: body, as: UTF8.self))")
                    return
                }
                #expect(vms.count == 1)
                #expect(vm["stage"] == .string("booting") && vm["host"] == .string("h1") && vm["busy"] == .bool(false))
            }
        }
    }
}
