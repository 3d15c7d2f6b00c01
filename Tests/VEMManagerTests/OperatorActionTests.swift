import Foundation
import Testing
import VEMBatch
import VEMBus
import VEMManager
import VEMProtocol
import VEMTestKit

/// The operator's actions through the API's POST routes, inside a running Manager (in-memory bus, manual clock):
/// `vem pause`/`resume` and `vem host drain` move the pool through the Sender, each journaled with the operator.
@Suite(.timeLimit(.minutes(2))) struct OperatorActionTests {
    static let configuration = PoolFakes.configuration(groups: [("B", 100)])

    @Test func pauseHoldsThePlannerAndHostDrainMigratesItsVMAway() async throws {
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            let api = OperatorAPI(manager: h.manager)
            let hosts = [PoolFakes.dom0(h.bus, "h1"), PoolFakes.dom0(h.bus, "h2")]
            let demand = [GroupDemand(group: "B", pendingJobs: 1, pendingCPUs: 2)]
            let batch = try PoolFakes.batch(h.bus, demand: demand)
            await h.connect(hosts + [batch])

            // Paused before the first rebalance: the demand creates nothing, and the rebalance says why.
            let paused = await api.post("/v1/pause", operatorName: "alice@127.0.0.1")
            #expect(paused.status == 200)
            await h.step(by: 30)
            #expect(h.snapshot.clients["slurmctl"]?.properties["slurm.demand"] != nil)
            #expect(h.snapshot.clients["h2"]?.properties["hypervisor"] != nil)
            await h.step(by: 30)
            let pausedPass = try await h.journal.recentDecisions()
            #expect(pausedPass.contains { $0.action == "policy.rebalance()" && $0.reason.contains("paused by the operator") })
            #expect(try await h.journal.allCommands().filter { $0.name == "vm.create" }.isEmpty)
            let status = try await api.status()
            #expect(status.paused == true && status.text.contains("planner: paused"))

            // Resumed: the next rebalance creates the VM on h1 (equal room: first by name).
            #expect(await api.post("/v1/resume", operatorName: "alice@127.0.0.1").status == 200)
            await h.step(by: 60)
            let created = try await h.journal.allCommands()
            #expect(created.contains { $0.name == "vm.create" && $0.state == .done })
            let vm = "B-vm-1"
            #expect(hosts[0].executedCommands.contains { $0.name == "vm.create" })
            let domU = PoolFakes.domU(h.bus, vm, host: "h1", address: "10.79.3.2")
            await h.connect([domU])
            await waitUntil("\(vm) active") {
                ((try? await h.journal.inventory()) ?? []).contains { $0.name == vm && $0.state == "active" }
            }

            // A host nobody knows is refused (409), and the refusal journaled with the operator's name.
            let unknown = await api.post("/v1/hosts/drain", query: ["host": "h9"], operatorName: "bob@127.0.0.1")
            #expect(unknown.status == 409)
            let missing = await api.post("/v1/hosts/drain", operatorName: "bob@127.0.0.1")
            #expect(missing.status == 400)

            // h1 drained: its VM is live-migrated to h2 at once, and h1 takes no new VM.
            let drained = await api.post("/v1/hosts/drain", query: ["host": "h1"], operatorName: "bob@127.0.0.1")
            let report = try JSONDecoder().decode(Manager.ActionReport.self, from: drained.body)
            #expect(drained.status == 200 && report.accepted && report.commands == 1, "\(report)")
            #expect(report.operatorName == "bob@127.0.0.1")
            await h.settle()  // the operator's commands, their outcomes and what the pool made of them
            let migrated = try await h.journal.allCommands()
            #expect(migrated.contains { $0.name == "vm.migrate" && $0.state == .done })
            let migrate = try #require(hosts[0].executedCommands.first { $0.name == "vm.migrate" })
            #expect(migrate.arguments.contains { $0.name == "to" && "\($0.value)".contains("h2") })
            let command = try #require(try await h.journal.allCommands().first { $0.name == "vm.migrate" })
            #expect(command.trigger == "bob@127.0.0.1")
            let moved = try JSONDecoder().decode([VMReport].self, from: await api.get("/v1/vms").body)
            #expect(moved.first?.host == "h2")
            let decisions = try await h.journal.recentDecisions(limit: 100)
            #expect(decisions.contains { $0.trigger == "alice@127.0.0.1" && $0.action == "vem pause" })
            #expect(decisions.contains { $0.trigger == "alice@127.0.0.1" && $0.action == "vem resume" })
            #expect(decisions.contains { $0.trigger == "bob@127.0.0.1" && $0.action == "vem host drain h9" && $0.reason.hasPrefix("refused") })
            #expect(decisions.contains {
                $0.trigger == "bob@127.0.0.1" && $0.action == "migrate" && $0.vm == vm
                    && $0.reason == "h1 is being drained: live-migrated to h2"
            })
            #expect(try await api.status().drainedHosts == ["h1"])

            // vem vm drain, then forget: journaled under the operator too.
            let vmDrain = await api.post("/v1/vms/drain", query: ["vm": vm], operatorName: "carol@127.0.0.1")
            #expect(vmDrain.status == 200)
            await h.settle()
            #expect(batch.executedCommands.contains { $0.name == "slurm.drain" })
            let forget = await api.post("/v1/vms/forget", query: ["vm": "nosuch"], operatorName: "carol@127.0.0.1")
            #expect(forget.status == 409)
            #expect(String(decoding: forget.body, as: UTF8.self).contains("no VM named nosuch"))
        }
    }

    @Test func theOperatorsNameIsTheClaimedUserAtTheAddress() {
        #expect(OperatorAPI.operatorName(user: "alice", address: "127.0.0.1") == "alice@127.0.0.1")
        #expect(OperatorAPI.operatorName(user: nil, address: "::1") == "operator@::1")
        #expect(OperatorAPI.operatorName(user: "a b\n<x>", address: "127.0.0.1") == "abx@127.0.0.1")
    }
}
