import Foundation
import Testing
import VEMAgent
import VEMBatch
import VEMSlurm
import VEMTestSupport

/// The Slurm driver and its agent plugins against a real Slurm 22.05 cluster (munged, slurmctld and dynamic
/// `slurmd -Z` nodes in network namespaces), started once for the suite. The tests run one at a time and
/// each leaves the cluster as it found it (its nodes removed, its jobs finished or cancelled, slurmctld up).
@Suite(.serialized, .slurmCluster, .timeLimit(.minutes(2)))
struct SlurmClusterTests {
    /// The agent's plugin registry with the Slurm plugins on this cluster.
    func registry(_ cluster: SlurmTestCluster, timeout: Duration = .seconds(10)) throws -> PluginRegistry {
        var r = PluginRegistry()
        try SlurmPlugins.register(into: &r, batch: try cluster.batch(timeout: timeout))
        return r
    }

    func command(_ r: PluginRegistry, _ name: String, _ args: [String], timeout: Duration = .seconds(10)) async throws
        -> CommandOutcome
    {
        let plugin = try #require(r.commandPlugin(named: name))
        return await plugin.run(
            CommandRequest(sequence: 1, name: name, arguments: args), context: CommandContext(now: 0, timeout: timeout))
    }

    func job(_ id: Int, in batch: SlurmBatch) async throws -> SlurmJob? {
        try await batch.readState().jobs.first { $0.id == id }
    }

    /// Registers a node of group b through `slurm.register` and starts its slurmd in a fresh namespace;
    /// returns when sinfo shows it idle in partition dynB.
    func addNodeB(_ cluster: SlurmTestCluster, _ r: PluginRegistry, name: String) async throws -> NetworkNamespace {
        let ns = try await cluster.makeNamespace()
        let outcome = try await command(r, "slurm.register", [name, "b", "1", "1000", ns.address])
        #expect(outcome.status == .ok, "\(outcome.error ?? "")")
        let node = DynamicNode(name: name, address: ns.address, feature: "vemB", cpus: 1, memoryMB: 1000)
        try cluster.startNode(node, in: ns)
        let batch = try cluster.batch()
        let seen = try await eventually("node \(name) idle in dynB", within: .seconds(20)) {
            try await batch.readState().nodes.first {
                $0.name == name && $0.state == "idle" && !$0.stateFlags.contains("NOT_RESPONDING")
            }
        }
        #expect(seen.partitions == ["dynB"])
        #expect(seen.address == ns.address)
        #expect(seen.isDynamic)
        return ns
    }

    @Test func pendingJobsOfTwoGroupsAreDemandAndANewNodeTakesItsGroupsJobs() async throws {
        let cluster = try currentCluster()
        let r = try registry(cluster)
        let batch = try cluster.batch()
        let jobA = try await cluster.submit(partition: "dynA", name: "a1", seconds: 1)
        let jobB = try await cluster.submit(partition: "dynB", name: "b1", seconds: 1)
        let cancelJobs: @Sendable () async -> Void = { await cluster.cancel([jobA, jobB]) }
        try await cleaning(cancelJobs) {

            // Demand through the agent's property plugin, as the Manager will see it.
            let demand = await r.read(
                PropertyRequest(name: "demand", plugin: "slurm.demand", returnType: .json), now: 0)
            let text = try #require(demand.value?.jsonText, "\(demand)")
            let snapshot = try JSONDecoder().decode(BatchSnapshot.self, from: Data(text.utf8))
            #expect(snapshot.groups.map(\.group) == ["a", "b"])
            #expect(snapshot[group: "a"]?.pendingJobs == 1)
            #expect(snapshot[group: "a"]?.pendingMemoryMB == 100)
            #expect(snapshot[group: "b"]?.pendingJobs == 1)
            #expect(snapshot[group: "b"]?.nodes.isEmpty == true)

            // A node for group b takes b's job, which runs on it and completes; a's job still waits.
            let ns = try await addNodeB(cluster, r, name: "vmb1")
            let done = try await eventually("job \(jobB) completed on vmb1", within: .seconds(30)) {
                try await job(jobB, in: batch).flatMap { $0.state == "COMPLETED" ? $0 : nil }
            }
            #expect(done.nodes == ["vmb1"])
            #expect(try await job(jobA, in: batch)?.state == "PENDING")
            let after = try await batch.snapshot()
            #expect(after[group: "b"]?.pendingJobs == 0)
            #expect(after[group: "b"]?.nodes.map(\.name) == ["vmb1"])
            #expect(after[group: "b"]?.nodes.first?.state == .idle)
            #expect(after[group: "b"]?.nodes.first?.group == "b")
            #expect(after[group: "a"]?.pendingJobs == 1)
            #expect(after[group: "a"]?.longestWait ?? -1 >= 0)

            // Registering the same name again is refused (scontrol create alone would say nothing).
            let again = try await command(r, "slurm.register", ["vmb1", "b", "1", "1000", ns.address])
            #expect(again.status == .failed)
            #expect(again.error?.contains("already has a node named 'vmb1'") == true)

            // Clean up: drain, stop the VM's slurmd, remove.
            #expect(try await command(r, "slurm.drain", ["vmb1", "test", "done"]).status == .ok)
            await cluster.stopNode("vmb1")
            let removed = try await command(r, "slurm.remove", ["vmb1"])
            #expect(removed.status == .ok, "\(removed.error ?? "")")
            #expect(try await batch.nodeExists("vmb1") == false)
        }
    }

    @Test func drainKeepsRunningJobsTakesNoNewOnesAndRemoveFollowsTheDrain() async throws {
        let cluster = try currentCluster()
        let r = try registry(cluster)
        let batch = try cluster.batch()
        _ = try await addNodeB(cluster, r, name: "vmb2")
        let running = try await cluster.submit(partition: "dynB", name: "long", seconds: 4, node: "vmb2")
        _ = try await eventually("job \(running) running on vmb2") {
            try await job(running, in: batch).flatMap { $0.state == "RUNNING" ? $0 : nil }
        }

        let drained = try await command(r, "slurm.drain", ["vmb2", "vem:", "surplus"])
        #expect(drained.status == .ok, "\(drained.error ?? "")")
        let waiting = try await cluster.submit(partition: "dynB", name: "late", seconds: 1, node: "vmb2")
        let cancelJobs: @Sendable () async -> Void = { await cluster.cancel([running, waiting]) }
        try await cleaning(cancelJobs) {

            let draining = try await batch.snapshot()
            #expect(draining[group: "b"]?.nodes.first?.state == .draining)
            #expect(draining[group: "b"]?.nodes.first?.runningJobs == 1)
            #expect(draining[group: "b"]?.usableCPUs == 0)
            let busy = try await command(r, "slurm.remove", ["vmb2"])
            #expect(busy.status == .failed)
            #expect(busy.error?.contains("busy") == true)

            // The running job finishes on the draining node; the late one is not started there.
            let finished = try await eventually("job \(running) completed", within: .seconds(30)) {
                try await job(running, in: batch).flatMap { $0.state == "COMPLETED" ? $0 : nil }
            }
            #expect(finished.nodes == ["vmb2"])
            let empty = try await eventually("vmb2 drained") {
                try await batch.snapshot()[group: "b"]?.nodes.first.flatMap { $0.state == .drained ? $0 : nil }
            }
            #expect(empty.runningJobs == 0)
            #expect(try await job(waiting, in: batch)?.state == "PENDING")

            let nodes = await r.read(PropertyRequest(name: "nodes", plugin: "slurm.nodes", returnType: .json), now: 0)
            #expect(nodes.value?.jsonText.contains("\"reason\":\"vem: surplus\"") == true, "\(nodes)")
            #expect(nodes.value?.jsonText.contains("\"state\":\"drained\"") == true)

            // Resume and drain again through the BatchSystem protocol, then remove the drained node.
            var system: any BatchSystem = batch
            try await system.resume(node: "vmb2")
            try await system.drain(node: "vmb2", reason: "vem: surplus again")
            await cluster.cancel([waiting])
            _ = try await eventually("vmb2 drained again") {
                try await batch.snapshot()[group: "b"]?.nodes.first.flatMap { $0.state == .drained ? $0 : nil }
            }
            await cluster.stopNode("vmb2")
            try await system.remove(node: "vmb2")
            #expect(try await batch.nodeExists("vmb2") == false)
            let gone = try await batch.snapshot()
            #expect(gone[group: "b"]?.nodes.isEmpty == true)
            let unknown = await #expect(throws: BatchError.self) { try await system.drain(node: "vmb2", reason: "x") }
            #expect(unknown?.code == .unknownNode)
        }
    }

    @Test func aStoppedControllerGivesAClearErrorWithinTheTimeout() async throws {
        let cluster = try currentCluster()
        await cluster.stopController()
        let restart: @Sendable () async -> Void = { _ = try? await cluster.startController() }
        try await cleaning(restart) {
            let r = try registry(cluster)
            let start = ContinuousClock.now
            let demand = await r.read(
                PropertyRequest(name: "demand", plugin: "slurm.demand", returnType: .json, timeout: .seconds(2)), now: 0
            )
            let elapsed = ContinuousClock.now - start
            #expect(demand.error?.code == .timeout, "\(demand)")
            #expect(demand.error?.message.contains("slurmctld") == true)
            #expect(elapsed < .seconds(5))

            let drain = try await command(r, "slurm.drain", ["vmb9", "x"], timeout: .seconds(2))
            #expect(drain.status == .timeout || drain.error?.contains("slurmctld") == true, "\(drain)")

            var system: any BatchSystem = try cluster.batch(timeout: .seconds(2))
            let error = await #expect(throws: BatchError.self) { _ = try await system.snapshot() }
            #expect(error?.code == .batchUnavailable)
            #expect(error?.message.contains("slurmctld") == true)
        }
        // Restarted (by `cleaning`), slurmctld answers again with the state it saved.
        #expect(try await cluster.batch().snapshot().groups.count == 2)
    }
}

/// Runs `body`, then `cleanup`, also when `body` throws.
func cleaning(_ cleanup: () async -> Void, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        await cleanup()
        throw error
    }
    await cleanup()
}
