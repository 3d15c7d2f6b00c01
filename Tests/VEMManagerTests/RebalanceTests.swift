import Foundation
import Synchronization
import Testing
import VEMBatch
import VEMBus
import VEMManager
import VEMProtocol
import VEMRules
import VEMSite
import VEMTestKit

/// `policy.rebalance()` inside the Manager: state → planner → commands through the Sender → decision log.
@Suite(.timeLimit(.minutes(2))) struct RebalanceTests {
    static let configuration = PoolFakes.configuration(groups: [("A", 50), ("B", 50)])

    /// A site's batch Client reports the demand as a configured property, `[slurm_demand] command = slurm.demand`
    /// (a property name cannot have a dot): the rebalance reads it and plans the creates.
    @Test func theConfiguredSlurmDemandPropertyDrivesTheRebalance() async throws {
        try await expectCreates(site: try loadSite(Self.configuration), demandProperty: "slurm_demand")
    }

    /// A demand property of any name, when the Manager's files define it with `command = slurm.demand`.
    @Test func aDemandPropertyNamedInTheSiteFilesDrivesTheRebalance() async throws {
        let site = try loadSite(
            Self.configuration + "\n\n[pending_jobs]\ncommand = slurm.demand\nreturn_type = json\nticks = 30\n")
        try await expectCreates(site: site, demandProperty: "pending_jobs")
    }

    /// One Dom0 Client and a batch Client reporting its demand as `demandProperty`: the rebalance plans creates.
    func expectCreates(site: Site, demandProperty: String) async throws {
        try await Harness.run(site: site) { h in
            let hosts = [PoolFakes.dom0(h.bus, "h1")]
            let batch = try PoolFakes.batch(h.bus, property: demandProperty)
            await h.connect(hosts + [batch])
            await h.step(by: 30)
            #expect(h.snapshot.clients["slurmctl"]?.properties[demandProperty] != nil)
            #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
            await h.step(by: 30)
            let rebalance = try #require(
                try await h.journal.recentDecisions().first { $0.action == "policy.rebalance()" })
            #expect(rebalance.reason.hasPrefix("planned"), "\(rebalance.reason)")
            #expect(try await h.journal.allCommands().contains { $0.name == "vm.create" && $0.client == "h1" })
        }
    }

    @Test func rebalanceCreatesAVMForTheGroupWithDemandAndExplainsIt() async throws {
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            let hosts = [PoolFakes.dom0(h.bus, "h1"), PoolFakes.dom0(h.bus, "h2")]
            let batch = try PoolFakes.batch(h.bus)
            await h.connect(hosts + [batch])

            // t=30: the properties arrive in the state.
            await h.step(by: 30)
            #expect(h.snapshot.clients["slurmctl"]?.properties["slurm.demand"] != nil)
            #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
            #expect(h.snapshot.clients["h2"]?.properties["hypervisor"] != nil)
            // t=60: the rebalance trigger; its commands and their outcomes are in when the step returns.
            await h.step(by: 30)
            let planned = try await h.journal.allCommands().filter { $0.name == "vm.create" }
            #expect(!planned.isEmpty)
            #expect(planned.allSatisfy { $0.state == .done })
            let creates = hosts.flatMap(\.executedCommands).filter { $0.name == "vm.create" }
            #expect(creates.count == planned.count)
            // Named arguments, typed, as the vm.* plugins take them (no `key=value` words).
            #expect(creates.allSatisfy { $0.arguments.contains(NamedValue("group", .string("B"))) })
            #expect(creates.allSatisfy { $0.arguments.contains(NamedValue("vcpus", .int(2))) })
            let create = try #require(creates.first)
            let vm = try #require(
                create.arguments.lazy.compactMap { a -> String? in
                    guard a.name == "vm", case .string(let s) = a.value else { return nil }
                    return s
                }.first)
            let journaled = try #require(
                try await h.journal.allCommands().first { command in
                    command.name == "vm.create" && command.arguments.contains { $0.name == "vm" && $0.value == .string(vm) }
                })
            // Journaled with its types: resent exactly after a restart.
            #expect(journaled.command.arguments == create.arguments)
            #expect(journaled.trigger == "rebalance")

            let decisions = try await h.journal.recentDecisions()
            // 6 pending CPUs of group B at 2 vCPUs a VM: one create decision per VM, B's only.
            #expect(decisions.filter { $0.action == "create" }.count == creates.count)
            let decision = try #require(decisions.first { $0.action == "create" && $0.vm == vm })
            #expect(decision.trigger == "rebalance")
            #expect(decision.group == "B")
            #expect(decision.reason.contains("B"))
            #expect(decisions.contains { $0.action == "policy.rebalance()" && $0.reason == "planned \(creates.count) operations" })
            #expect(try await h.journal.inventory().contains { $0.name == vm && $0.group == "B" })

            // vem explain VM: the planner's account, the trigger, the decision and its reason.
            let explained = try await OperatorAPI(manager: h.manager).explain(vm)
            #expect(explained.trigger == "rebalance")
            #expect(explained.explanation?.contains("group B:") == true)
            let entry = try #require(explained.decisions.first { $0.action == "create" })
            #expect(entry.vm == vm)
            #expect(entry.trigger == "rebalance")
            #expect(entry.reason == decision.reason)
            #expect(explained.decisions.allSatisfy { $0.vm == vm || $0.group == vm })
            // By group, over HTTP's route: every create of B.
            let response = await OperatorAPI(manager: h.manager).get("/v1/explain", query: ["name": "B"])
            #expect(response.status == 200)
            let byGroup = try JSONDecoder().decode(ExplainReport.self, from: response.body)
            #expect(byGroup.decisions.filter { $0.action == "create" }.count == planned.count)
            let latest = try await OperatorAPI(manager: h.manager).explain(nil)
            #expect(latest.decisions.count <= 20)
            #expect(latest.decisions.contains { $0.action == "policy.rebalance()" })

            // The new VM's DomU Client joins: its node is registered with the batch system.
            let domU = PoolFakes.domU(h.bus, vm, host: journaled.client, address: "10.79.3.2")
            await h.connect([domU])
            await waitUntil("slurm.register executed on the batch Client") {
                batch.executedCommands.contains { $0.name == "slurm.register" }
            }
            let register = try #require(batch.executedCommands.first { $0.name == "slurm.register" })
            #expect(register.arguments.first?.value == .string(vm))
            #expect(register.arguments.dropFirst().first?.value == .string("B"))
            // The node's address is the one the DomU Client's connection came from.
            #expect(register.arguments.count == 5)
            #expect(register.arguments.last?.value == .string("10.79.3.2"))
            // The register's outcome feeds back: the journal's inventory shows the VM active.
            await waitUntil("\(vm) active in the journal's inventory") {
                ((try? await h.journal.inventory()) ?? []).contains { $0.name == vm && $0.state == "active" }
            }
            // vem vms: the VM, its group, host and stage, its node registered.
            let listed = await OperatorAPI(manager: h.manager).get("/v1/vms")
            let vms = try JSONDecoder().decode([VMReport].self, from: listed.body)
            let report = try #require(vms.first { $0.name == vm })
            #expect(report.group == "B" && report.host == journaled.client && report.stage == "active")
            #expect(report.registered && report.clientJoined && !report.operationPending)
            #expect(vms.count == creates.count)
            let registered = try await h.journal.allCommands().first { $0.name == "slurm.register" }
            #expect(registered?.client == "slurmctl")
            #expect(registered?.trigger == "rebalance")
        }
    }

    @Test func rebalanceWithoutABatchClientIsRecordedWithTheReason() async throws {
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            await h.step(by: 60)
            let decision = try #require(try await h.journal.recentDecisions().first { $0.action == "policy.rebalance()" })
            #expect(decision.trigger == "rebalance")
            #expect(decision.reason.contains("no connected batch client"))
            #expect(try await h.journal.allCommands().isEmpty)
        }
    }

    @Test func aRebalanceThatChangesNothingIsJournaledOnceNotAtEveryPass() async throws {
        let site = try loadSite(
            """
            [manager]
            default_triggers = no

            [group:A]
            share = 100

            [rebalance]
            expr = { True }
            cmd = {
                policy.rebalance()
                log("after")
            }
            ticks = 60
            """)
        try await Harness.run(site: site) { h in
            for pass in 1...3 {
                await h.step(by: 60)
                let logged = try await h.journal.recentDecisions().filter { $0.action == "log(after)" }
                #expect(logged.count == pass)
            }
            let rebalances = try await h.journal.recentDecisions().filter { $0.action == "policy.rebalance()" }
            #expect(rebalances.count == 1)
            #expect(rebalances.first?.reason.contains("no connected batch client") == true)
            #expect(h.stats("rebalance")?.fired == 3)
        }
    }

    @Test func aRestartedManagerTakesBackTheInventory() async throws {
        let site = try loadSite(Self.configuration)
        let journal = try Journal(path: nil)
        try await journal.replaceInventory([
            InventoryRecord(name: "B-vm-4", group: "B", host: "h1", state: "active", updatedAt: 10),
            InventoryRecord(name: "Z-vm-1", group: "Z", host: "h1", state: "active", updatedAt: 10),
        ])
        try await Harness.run(site: site, journal: journal) { h in
            #expect(h.recovery.vms == 1)
            let vms = await h.manager.pool.reconciler?.inventory ?? []
            #expect(vms.map(\.id) == ["B-vm-4"])
            #expect(vms.first?.phase == .active)
            #expect(vms.first?.cpus == 2)
        }
    }
}
