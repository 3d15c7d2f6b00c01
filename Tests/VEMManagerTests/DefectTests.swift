import Foundation
import Testing
import VEMBus
import VEMManager
import VEMProtocol
import VEMTestKit

/// Defects of issue 18, each kept fixed: the clock's infinite sleep, decisions dated 1970, creation times lost
/// on restart, and `vm.create` on a named host that has no room.
@Suite(.timeLimit(.minutes(2))) struct DefectTests {
    /// The system clock waits for an infinite deadline until cancelled (it used to trap converting `.infinity`
    /// to a duration).
    @Test func theSystemClockSleepsUntilInfinityUntilCancelled() async {
        let sleeper = Task { try await SystemClock().sleep(until: .infinity) }
        sleeper.cancel()
        let result = await sleeper.result
        #expect(throws: CancellationError.self) { try result.get() }
    }

    /// Group B, a property poll every 5 seconds and a `vm.create` on h1 every 10 seconds once a Client is in.
    static let site = PoolFakes.configuration(groups: [("B", 100)], query: 5, rebalance: nil) + """


        [make]
        expr = { len(manager.clients) >= 1 }
        cmd = { vm.create("B", host="h1") }
        ticks = 10
        """

    /// A decision made when a DomU joins with no batch Client to register its node carries the Manager's time,
    /// not 1970.
    @Test func aFailureForWantOfABatchClientCarriesTheManagersTime() async throws {
        let start = 1_700_000_000.0
        try await Harness.run(site: try loadSite(Self.site), clock: ManualClock(start: start)) { h in
            let host = PoolFakes.dom0(h.bus, "h1")
            try await h.with([host]) {
                await h.step(by: 5)
                #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
                await h.step(by: 5)  // t=10: vm.create, and its outcome
                #expect(await h.manager.pool.reconciler?.vms["B-vm-1"]?.stage == .booting)
                h.clock.advance(by: 3)  // t=13: its DomU Client joins; no batch Client to register its node
                try await h.with([PoolFakes.domU(h.bus, "B-vm-1", host: "h1")]) {
                    await waitUntil("the registration failure decided") {
                        ((try? await h.journal.recentDecisions()) ?? []).contains { $0.action == "failed" }
                    }
                }
                let failed = try await h.journal.recentDecisions().filter { $0.action == "failed" }
                #expect(!failed.isEmpty && failed.allSatisfy { $0.time == start + 13 }, "\(failed)")
                #expect(failed.allSatisfy { $0.reason.contains("no batch client") })
            }
        }
    }

    /// A restarted Manager takes back each VM's creation time, not the time of the last journal write.
    @Test func creationTimesSurviveARestart() async throws {
        let journal = try Journal(path: nil)
        let start = 1_700_000_000.0
        try await Harness.run(site: try loadSite(Self.site), journal: journal, clock: ManualClock(start: start)) { h in
            try await h.with([PoolFakes.dom0(h.bus, "h1")]) {
                await h.step(by: 5)
                #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
                await h.step(by: 5)  // t=10: B-vm-1
                #expect(await h.manager.pool.reconciler?.vms["B-vm-1"]?.stage == .booting)
                await h.step(by: 10)  // t=20: B-vm-2 (only what changed is written: B-vm-1's row stays)
                let inventory = try await h.journal.inventory()
                #expect(inventory.contains { $0.name == "B-vm-2" })
            }
        }
        let first = try #require(try await journal.inventory().first { $0.name == "B-vm-1" })
        #expect(first.updatedAt == start + 10 && first.createdAt == start + 10)
        let restartSite = try loadSite("[manager]\ndefault_triggers = no\n\n[group:B]\nshare = 100\n")
        try await Harness.run(site: restartSite, journal: journal, clock: ManualClock(start: start + 1000)) { h in
            #expect(h.recovery.vms == 2)
            let vms = await h.manager.pool.reconciler?.vms ?? [:]
            #expect(vms["B-vm-1"]?.createdAt == Int(start + 10))
            #expect(vms["B-vm-2"]?.createdAt == Int(start + 20))
        }
    }

    /// After a restart no VM takes a name the journal's decisions mention, even when that VM is long gone (the
    /// chaos test saw `atlas-vm-2` created again after a restart, while Slurm still held the first one's node).
    @Test func aRestartedManagerDoesNotReuseTheNameOfAVMDestroyedBeforeIt() async throws {
        let journal = try Journal(path: nil)
        let start = 1_700_000_000.0
        try await journal.recordDecision(
            DecisionRecord(
                time: start, trigger: "vem.rebalance", action: "destroy", reason: "idle", vm: "B-vm-7", group: "B"))
        try await Harness.run(site: try loadSite(Self.site), journal: journal, clock: ManualClock(start: start)) { h in
            try await h.with([PoolFakes.dom0(h.bus, "h1")]) {
                await h.step(by: 5)
                #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
                await h.step(by: 5)
                let names = await h.manager.pool.reconciler?.vms.keys.sorted() ?? []
                #expect(names == ["B-vm-8"])
            }
        }
    }

    /// `vm.create` on a named host checks its room: a host with room for one VM gets one, not one per action
    /// (the VM being created is counted before the host reports it), and a host reporting no free memory none.
    @Test func aCreateOnANamedHostChecksItsRoom() async throws {
        let site = try loadSite(
            PoolFakes.configuration(groups: [("B", 100)], query: 5, rebalance: nil) + """


                [make]
                expr = { len(manager.clients) == 2 }
                cmd = {
                    vm.create("B", host="h1")
                    vm.create("B", host="h1")
                    vm.create("B", host="full")
                }
                ticks = 10
                """)
        try await Harness.run(site: site) { h in
            let hosts = [
                PoolFakes.dom0(h.bus, "h1", freeVCPUs: 2, freeMiB: 4096), PoolFakes.dom0(h.bus, "full", freeMiB: 0),
            ]
            try await h.with(hosts) {
                await h.step(by: 5)
                #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
                #expect(h.snapshot.clients["full"]?.properties["hypervisor"] != nil)
                await h.step(by: 5)  // t=10: one create on h1, none on full
                let decided = try await h.journal.recentDecisions().filter { $0.action.hasPrefix("vm.create") }
                #expect(decided.count == 3)
                let creates = try await h.journal.allCommands().filter { $0.name == "vm.create" }
                #expect(creates.map(\.client) == ["h1"])
                let refusals = try await h.journal.recentDecisions().filter { $0.reason.contains("has no room") }
                #expect(refusals.map(\.action).sorted() == ["vm.create(B, host=full)", "vm.create(B, host=h1)"])
                #expect(refusals.contains { $0.reason.contains("0 vCPUs and 2048 MiB free") })
                #expect(refusals.contains { $0.reason.contains("8 vCPUs and 0 MiB free") })
            }
        }
    }
}
