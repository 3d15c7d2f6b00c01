import Foundation
import Testing
import VEMBatch
import VEMBus
import VEMManager
import VEMPool
import VEMProtocol
import VEMTestKit

/// `vem pause` and `vem host drain` hold across a Manager restart (issue 20): journaled with their decision in the
/// journal on disk, and restored by the restarted `ManagerService` before any Client joins.
@Suite(.timeLimit(.minutes(2))) struct OperatorHoldRecoveryTests {
    static let configuration = PoolFakes.configuration(groups: [("B", 100)])

    @Test func aRestartedManagerStaysPausedAndKeepsItsDrainedHosts() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vem-holds-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/journal.sqlite"
        let site = try loadSite(Self.configuration)
        let demand = [GroupDemand(group: "B", pendingJobs: 1, pendingCPUs: 2)]

        // First life: paused by alice; h1 and h2 drained by bob, h2 resumed again.
        try await Harness.run(site: site, journal: try Journal(path: path)) { h in
            let api = OperatorAPI(manager: h.manager)
            await h.connect([PoolFakes.dom0(h.bus, "h1"), PoolFakes.dom0(h.bus, "h2")])
            #expect(await api.post("/v1/pause", operatorName: "alice@127.0.0.1").status == 200)
            for host in ["h1", "h2"] {
                #expect(
                    await api.post("/v1/hosts/drain", query: ["host": host], operatorName: "bob@127.0.0.1").status
                        == 200)
            }
            #expect(
                await api.post("/v1/hosts/resume", query: ["host": "h2"], operatorName: "bob@127.0.0.1").status == 200)
            let status = try await api.status()
            #expect(status.paused == true && status.drainedHosts == ["h1"])
        }

        // Restarted on the same journal file: still paused and h1 still drained, before any Client joined.
        let journal = try Journal(path: path)
        #expect(try await journal.operatorHolds() == OperatorHolds(paused: true, drainedHosts: ["h1"]))
        try await Harness.run(site: site, journal: journal) { h in
            let api = OperatorAPI(manager: h.manager)
            let restored = try await api.status()
            #expect(restored.paused == true, "the restart resumed the planner")
            #expect(restored.drainedHosts == ["h1"], "the restart forgot the drained host")

            // Paused: the demand creates nothing, and the rebalance says why.
            let hosts = [PoolFakes.dom0(h.bus, "h1"), PoolFakes.dom0(h.bus, "h2")]
            await h.connect(hosts + [try PoolFakes.batch(h.bus, demand: demand)])
            await h.step(by: 30)
            await h.step(by: 30)
            let decisions = try await journal.recentDecisions()
            #expect(
                decisions.contains { $0.action == "policy.rebalance()" && $0.reason.contains("paused by the operator") }
            )
            #expect(try await journal.allCommands().filter { $0.name == "vm.create" }.isEmpty)

            // Resumed: the VM goes to h2, since h1 (first by name, equal room) is still drained.
            #expect(await api.post("/v1/resume", operatorName: "alice@127.0.0.1").status == 200)
            await h.step(by: 60)
            #expect(hosts[1].executedCommands.contains { $0.name == "vm.create" })
            #expect(!hosts[0].executedCommands.contains { $0.name == "vm.create" })
            #expect(try await journal.operatorHolds() == OperatorHolds(paused: false, drainedHosts: ["h1"]))
        }
    }
}
