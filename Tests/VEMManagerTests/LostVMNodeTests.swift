import Foundation
import Testing
import VEMBatch
import VEMBus
import VEMCore
import VEMManager
import VEMProtocol
import VEMTestKit

/// A lost VM does not stay a batch node that takes jobs (the pool's fakes on the in-memory bus, manual clock): a
/// busy VM its host no longer lists gets `slurm.down` on the batch Client; the idle VMs of a host gone for 120 s
/// (and of guests gone too) get `slurm.remove`, while a VM whose guest still talks is left alone.
@Suite(.timeLimit(.minutes(2))) struct LostVMNodeTests {
    @Test func aLostBusyVMsNodeIsMarkedDownAndAGoneHostsIdleVMsNodesRemoved() async throws {
        let journal = try Journal(path: nil)
        try await journal.replaceInventory([
            InventoryRecord(name: "B-vm-1", group: "B", host: "h1", state: "active", updatedAt: 0),
            InventoryRecord(name: "B-vm-2", group: "B", host: "h3", state: "active", updatedAt: 0),
            InventoryRecord(name: "B-vm-3", group: "B", host: "h3", state: "active", updatedAt: 0),
        ])
        let site = try loadSite(PoolFakes.configuration(groups: [("B", 100)], query: 5, rebalance: 10))
        try await Harness.run(site: site, journal: journal) { h in
            #expect(h.recovery.vms == 3)
            func node(_ name: String, jobs: Int) -> BatchNode {
                BatchNode(
                    name: name, group: "B", cpus: 2, memoryMB: 2048, allocatedCPUs: jobs > 0 ? 2 : 0, runningJobs: jobs,
                    state: jobs > 0 ? .allocated : .idle)
            }
            let demand = [
                GroupDemand(
                    group: "B", pendingJobs: 3, pendingCPUs: 6,
                    nodes: [node("B-vm-1", jobs: 1), node("B-vm-2", jobs: 0), node("B-vm-3", jobs: 0)])
            ]
            let batch = try PoolFakes.batch(h.bus, demand: demand)
            // h2 (no VM of the inventory) lets the planner run: a rebalance needs a host.
            await h.connect([batch, PoolFakes.domU(h.bus, "B-vm-3", host: "h3"), PoolFakes.dom0(h.bus, "h2")])
            // The rebalances read the batch: B-vm-1 runs a job (stepped until one has, however loaded the machine).
            func busy() async -> Bool { await h.manager.pool.reconciler?.vms["B-vm-1"]?.busy == true }
            for _ in 0..<6 where !(await busy()) { await h.step(by: 5) }
            #expect(await busy())

            // h1 comes back without B-vm-1: lost while busy, its node marked down.
            let h1 = HypervisorFake(bus: h.bus, name: "h1", domains: [:])
            await h.connect([h1])
            for _ in 0..<6 where !batch.executedCommands.contains(where: { $0.name == "slurm.down" }) {
                await h.step(by: 5)
            }
            #expect(h1.executedCommands.contains { $0.name == "vm.list" })
            let down = try #require(batch.executedCommands.first { $0.name == "slurm.down" }, "no slurm.down")
            #expect(down.arguments == [NamedValue("", .string("B-vm-1")), NamedValue("", .string("vem: B-vm-1 lost"))])
            #expect(!batch.executedCommands.contains { $0.name == "slurm.remove" })

            // h3 never came back: 120 s after the Manager first missed it, B-vm-2 (its guest gone too) is lost and
            // its idle node removed; B-vm-3, whose guest is connected, stays.
            func lostB2() async throws -> Bool {
                try await h.journal.recentDecisions(limit: 500).contains {
                    $0.action == "lost" && $0.vm == "B-vm-2" && $0.reason.contains("h3 is gone")
                }
            }
            let start = h.clock.now()
            while try await !lostB2(), h.clock.now() - start < 300 { await h.step(by: 10) }
            #expect(try await lostB2())
            #expect(h.clock.now() - start <= 140, "B-vm-2 lost only after \(h.clock.now() - start) s")
            let decisions = try await h.journal.recentDecisions(limit: 500)
            #expect(!decisions.contains { $0.action == "lost" && $0.vm == "B-vm-3" })
            let removed = batch.executedCommands.filter { $0.name == "slurm.remove" }.map(\.arguments)
            #expect(removed.contains([NamedValue("", .string("B-vm-2"))]))
            #expect(!removed.contains([NamedValue("", .string("B-vm-3"))]))
        }
    }
}
