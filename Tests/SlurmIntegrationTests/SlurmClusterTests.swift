import Foundation
import Testing
import VEMAgent
import VEMBatch
import VEMCore
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
        -> PluginOutcome
    {
        let plugin = try #require(r.commandPlugin(named: name))
        return await plugin.run(
            CommandRequest(sequence: 1, name: name, arguments: args), context: CommandContext(now: 0, timeout: timeout))
    }

    func job(_ id: Int, in batch: SlurmBatch) async throws -> SlurmJob? {
        try await batch.readState().jobs.first { $0.id == id }
    }

    /// The JSON output of a successful `slurm.register`.
    func registered(_ outcome: PluginOutcome) throws -> RegisteredNode {
        try #require(outcome.status == .ok, "\(outcome.error ?? "")")
        return try JSONDecoder().decode(RegisteredNode.self, from: Data(outcome.output.utf8))
    }

    /// Registers a node of group b through `slurm.register` and starts its slurmd in a fresh namespace;
    /// returns when sinfo shows it idle in partition dynB, with what `slurm.register` reported.
    @discardableResult
    func addNodeB(_ cluster: SlurmTestCluster, _ r: PluginRegistry, name: String) async throws
        -> (NetworkNamespace, RegisteredNode)
    {
        let ns = try await cluster.makeNamespace()
        let report = try registered(try await command(r, "slurm.register", [name, "b", "1", "1000", ns.address]))
        let node = DynamicNode(name: name, address: ns.address, feature: "vemB", cpus: 1, memoryMB: 1000)
        try cluster.startNode(node, in: ns)
        let seen = try await idleNode(cluster, name, partition: "dynB")
        #expect(seen.address == ns.address)
        return (ns, report)
    }

    /// Waits until sinfo shows the node idle and responding; checks it is a dynamic node of `partition`.
    func idleNode(_ cluster: SlurmTestCluster, _ name: String, partition: String) async throws -> SlurmNode {
        let batch = try cluster.batch()
        let seen = try await eventually("node \(name) idle in \(partition)", within: .seconds(20)) {
            try await batch.readState().nodes.first {
                $0.name == name && $0.state == "idle" && !$0.stateFlags.contains("NOT_RESPONDING")
            }
        }
        #expect(seen.partitions == [partition])
        #expect(seen.isDynamic)
        return seen
    }

    /// How many nodes of that name sinfo lists.
    /// Runs `body` with the cluster, a plugin registry and the batch, then cancels the jobs it listed and stops and
    /// deletes the dynamic nodes `names`, also when it throws.
    func withNodes(
        _ names: [String], _ body: (SlurmTestCluster, PluginRegistry, SlurmBatch, JobList) async throws -> Void
    ) async throws {
        let cluster = try currentCluster()
        let r = try registry(cluster)
        let batch = try cluster.batch()
        let jobs = JobList()
        try await cleaning({
            await cluster.cancel(jobs.ids)
            for name in names {
                await cluster.stopNode(name)
                _ = try? await batch.deleteNode(name)
            }
        }) {
            try await body(cluster, r, batch, jobs)
        }
    }

    func count(_ name: String, in batch: SlurmBatch) async throws -> Int {
        try await batch.readState().nodes.filter { $0.name == name }.count
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
            let value = try #require(demand.value, "\(demand)")
            let snapshot = try value.decode(BatchSnapshot.self)  // a dict, as it goes on the wire: no JSON text
            #expect(snapshot.groups.map(\.group) == ["a", "b"])
            #expect(snapshot[group: "a"]?.pendingJobs == 1)
            #expect(snapshot[group: "a"]?.pendingMemoryMB == 100)
            #expect(snapshot[group: "b"]?.pendingJobs == 1)
            #expect(snapshot[group: "b"]?.nodes.isEmpty == true)

            // A first registration at an address that turns out stale leaves a FUTURE node there; registering
            // again at the VM's address adopts that node and moves it (`scontrol update NodeAddr=`).
            let stale = try registered(try await command(r, "slurm.register", ["vmb1", "b", "1", "1000", "192.0.2.9"]))
            #expect(!stale.adopted)
            #expect(stale.slurmState == "FUTURE+DYNAMIC_NORM")
            // A node for group b takes b's job, which runs on it and completes; a's job still waits.
            let (ns, moved) = try await addNodeB(cluster, r, name: "vmb1")
            #expect(moved.adopted)
            #expect(moved.previousAddress == "192.0.2.9")
            #expect(moved.address == ns.address)
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

            // Registering it again (a reply lost on the way) adopts the running node: still one node, still idle.
            let again = try registered(try await command(r, "slurm.register", ["vmb1", "b", "1", "1000", ns.address]))
            #expect(again.adopted)
            #expect(again.previousAddress == nil)
            #expect(again.slurmState == "IDLE+DYNAMIC_NORM")
            #expect(try await count("vmb1", in: batch) == 1)
            #expect(try await batch.readState().nodes.first { $0.name == "vmb1" }?.state == "idle")

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
        try await addNodeB(cluster, r, name: "vmb2")
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

    @Test func aGuestWhoseSlurmdStartsFirstIsAdoptedAndTakesItsGroupsJobs() async throws {
        try await withNodes(["vmb3"]) { cluster, r, batch, jobs in
            // As a guest image does at boot: `slurmd -Z --conf "… Feature=vemB"` before VEM registers anything.
            let ns = try await cluster.makeNamespace()
            try cluster.startNode(
                DynamicNode(name: "vmb3", address: ns.address, feature: "vemB", cpus: 1, memoryMB: 1000), in: ns)
            let own = try await idleNode(cluster, "vmb3", partition: "dynB")
            #expect(own.address == ns.address)

            // Registered for group a, whose feature it lacks: refused, naming what it has.
            let wrong = try await command(r, "slurm.register", ["vmb3", "a", "1", "1000", ns.address])
            #expect(wrong.status == .failed)
            #expect(
                wrong.error?.contains(
                    "Slurm already has a node named 'vmb3' with features 'vemB' (group 'b'), not group 'a''s feature "
                        + "'vemA'") == true, "\(wrong.error ?? "")")

            // Registered for group b: adopted as it is, one node, and it takes b's job.
            let adopted = try registered(
                try await command(r, "slurm.register", ["vmb3", "b", "1", "1000", ns.address]))
            #expect(adopted.adopted)
            #expect(adopted.previousAddress == nil)
            #expect(adopted.slurmState == "IDLE+DYNAMIC_NORM")
            #expect(try await count("vmb3", in: batch) == 1)
            let job = try await cluster.submit(partition: "dynB", name: "b3", seconds: 1)
            jobs.add(job)
            let done = try await eventually("job \(job) completed on vmb3", within: .seconds(30)) {
                try await self.job(job, in: batch).flatMap { $0.state == "COMPLETED" ? $0 : nil }
            }
            #expect(done.nodes == ["vmb3"])
            #expect(try await batch.snapshot()[group: "b"]?.nodes.map(\.name) == ["vmb3"])

            #expect(try await command(r, "slurm.drain", ["vmb3", "test", "done"]).status == .ok)
            await cluster.stopNode("vmb3")
            let removed = try await command(r, "slurm.remove", ["vmb3"])
            #expect(removed.status == .ok, "\(removed.error ?? "")")
            #expect(try await batch.nodeExists("vmb3") == false)
        }
    }

    /// What the Manager does before it destroys a busy VM (a preemption): `slurm.down`. slurmctld must requeue the
    /// node's job at once, not when the dead VM's slurmd stops answering (`SlurmdTimeout`, 60 s here), and start
    /// no job there meanwhile — here even with the node's slurmd still up (`ReturnToService=2`).
    @Test func aDownedNodesRequeueableJobIsPendingAtOnceAndTheNodeTakesNoNewJob() async throws {
        try await withNodes(["vmb4", "vmb5"]) { cluster, r, batch, jobs in
            try await addNodeB(cluster, r, name: "vmb4")
            let victim = try await cluster.submit(partition: "dynB", name: "victim", script: "sleep 300", requeue: true)
            jobs.add(victim)
            _ = try await eventually("job \(victim) running on vmb4", within: .seconds(20)) {
                try await job(victim, in: batch).flatMap { $0.state == "RUNNING" && $0.nodes == ["vmb4"] ? $0 : nil }
            }
            let downAt = ContinuousClock.now
            let down = try await command(r, "slurm.down", ["vmb4", "vem:", "vmb4", "preempted"])
            #expect(down.status == .ok, "\(down.error ?? "")")
            let requeued = try await eventually("job \(victim) pending again", within: .seconds(15)) {
                try await job(victim, in: batch).flatMap { $0.state == "PENDING" ? $0 : nil }
            }
            let after = ContinuousClock.now - downAt
            print("slurm.down: job \(victim) pending after \(after), reason \(requeued.stateReason)")
            #expect(after < .seconds(15))  // SlurmdTimeout is 60 s
            // A job dynB's only node would start at once waits; once a second node comes, a job starts there: the
            // scheduler ran with vmb4 (its slurmd still up) and left it alone.
            let late = try await cluster.submit(partition: "dynB", name: "late", seconds: 30)
            jobs.add(late)
            try await addNodeB(cluster, r, name: "vmb5")
            let started = try await eventually("a job started on vmb5", within: .seconds(20)) {
                let all = try await batch.readState().jobs.filter { [victim, late].contains($0.id) }
                return all.contains { !$0.nodes.isEmpty } ? all : nil
            }
            for j in started {
                print("slurm.down: job \(j.id) \(j.state) on \(j.nodes), reason \(j.stateReason)")
                #expect(j.nodes == [] || j.nodes == ["vmb5"])
            }
            // The Manager sees the node idle (down, no job), so it removes it once its VM is destroyed.
            let node = try #require(try await batch.snapshot()[group: "b"]?.nodes.first { $0.name == "vmb4" })
            let raw = try await batch.readState().nodes.first { $0.name == "vmb4" }
            print("slurm.down: vmb4 \(node.state), Slurm: \(raw?.state ?? "?") \(raw?.stateFlags ?? [])")
            #expect(node.state == .down || node.state == .drained)
            #expect(node.runningJobs == 0 && node.allocatedCPUs == 0)
            await cluster.cancel(jobs.ids)
            for name in ["vmb4", "vmb5"] {
                await cluster.stopNode(name)
                _ = try await eventually("\(name) removed", within: .seconds(15)) {
                    try await command(r, "slurm.remove", [name]).status == .ok ? true : nil
                }
                #expect(try await batch.nodeExists(name) == false)
            }
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

/// Job ids to cancel at clean-up, gathered while a test runs.
final class JobList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    var ids: [Int] { lock.withLock { list } }
    func add(_ id: Int) { lock.withLock { list.append(id) } }
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
