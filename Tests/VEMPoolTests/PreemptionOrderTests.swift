import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// A preemption against a batch system that behaves as Slurm does: it learns that a VM is dead only when the VM's
/// daemon stops answering (`SlurmdTimeout`, a minute or more), so a destroy alone changes nothing in it — the
/// killed job stays "running" there and a free CPU of the node still takes the next job, which dies with the VM.
/// A down (`scontrol update State=DOWN`) requeues the node's jobs at once and lets it take none. So the
/// Reconciler marks a busy VM's node down before it destroys the VM, and removes the node once idle.
@Suite struct PreemptionOrderTests {
    /// The replay batch as that batch system: `down` is Slurm's down, a destroy does nothing to it.
    struct World {
        var slurm: ReplayBatch
        var r: Reconciler
        var t: Int
        /// The operations carried out, in order (`down atlas-vm-1`, …).
        var done: [String] = []

        /// Carries out `operations` one at a time, each taking `step` seconds (the batch schedules meanwhile),
        /// feeding each outcome back; `atDestroy` runs just before a destroy is carried out.
        mutating func run(_ operations: [PoolOperation], step: Int = 5, atDestroy: (ReplayBatch) -> Void = { _ in })
            throws
        {
            var queue = operations
            while !queue.isEmpty {
                let op = queue.removeFirst()
                done += [op].names
                switch op.kind {
                case .downNode(let reason): try slurm.down(node: op.vm, reason: reason)
                case .removeNode: try slurm.remove(node: op.vm)
                case .destroyVM: atDestroy(slurm)
                default: Issue.record("unexpected \(op)")
                }
                t += step
                slurm.advance(to: t)
                queue += r.onSucceeded(op.id, now: t)
            }
        }
    }

    /// An atlas VM (2 vCPUs) registered as a node, running job 1 (1 CPU) since 100; job 2 comes at 2003.
    func world() throws -> (World, String) {
        let jobs = [
            ReplayJob(jobNumber: 1, group: "atlas", submitTime: 0, runTime: 100_000),
            ReplayJob(jobNumber: 2, group: "atlas", submitTime: 2_003, runTime: 100),
        ]
        var w = World(slurm: try ReplayBatch(jobs: jobs), r: try atlasReconciler(), t: 100)
        let vm = try activeVM(&w.r)
        try w.slurm.register(NodeRegistration(name: vm, group: "atlas", cpus: 2, memoryMB: 2048))
        w.slurm.advance(to: 100)
        #expect(w.slurm.records()[0].status == .running)
        _ = w.r.observe(w.slurm.snapshot(), now: 100)
        #expect(w.r.vms[vm]?.busy == true)
        w.t = 2_000
        w.slurm.advance(to: 2_000)
        return (w, vm)
    }

    @Test func aPreemptedVMsNodeGoesDownBeforeTheVMIsDestroyedAndNoJobStartsThereMeanwhile() throws {
        var (w, vm) = try world()
        let kill = w.r.apply(plan([Directive(.destroy(vm: vm), reason: "preempted for cms")]), now: 2_000)
        var atDestroy: (job1: JobRecord.Status, node: NodeState?)?
        try w.run(kill) { slurm in atDestroy = (slurm.records()[0].status, slurm.state(of: vm)) }
        #expect(w.done == ["down \(vm)", "destroy \(vm)"])  // main: destroy first, the node left up
        // At the kill the job is queued again and the node takes nothing: job 2 (at 2003), which its free CPU
        // would have started, waits instead of dying with the VM.
        #expect(atDestroy?.job1 == .pending)
        #expect(atDestroy?.node == .drained)
        let records = w.slurm.records()
        #expect(records.allSatisfy { $0.status == .pending })
        #expect(w.slurm.requeuedJobs == 1)
        #expect(w.r.vms[vm]?.gone == true && w.r.vms[vm]?.markedDown == true)
        #expect(w.r.counters.busyDestroyed == 1)
        // The node, idle now, is removed at the next snapshot, and the VM forgotten.
        try w.run(w.r.observe(w.slurm.snapshot(), now: w.t))
        #expect(w.done.suffix(1) == ["remove \(vm)"])
        #expect(w.slurm.state(of: vm) == nil && w.r.vms[vm] == nil)
    }

    @Test func aDownThatFailsOrTimesOutIsFollowedByTheDestroyAllTheSame() throws {
        var (w, vm) = try world()
        let down = w.r.apply(plan([Directive(.destroy(vm: vm), reason: "preempted")]), now: 2_000)
        #expect(down.names == ["down \(vm)"])
        // slurmctld refused (or the node is no longer known): the room the planner counted on is not given up.
        let destroy = w.r.onFailed(try #require(down.first).id, message: "failed: slurmctld said no", now: 2_001)
        #expect(destroy.names == ["destroy \(vm)"])
        #expect(w.r.decisions.last?.reason == "destroyed although its node could not be marked down")
        _ = w.r.onSucceeded(try #require(destroy.first).id, now: 2_002)
        #expect(w.r.vms[vm]?.gone == true && w.r.vms[vm]?.markedDown == false)
        // The batch system ends the job when the VM's daemon stops answering; then the node is removed.
        try w.slurm.down(node: vm, reason: "not responding")
        #expect(w.r.observe(w.slurm.snapshot(), now: 2_100).names == ["remove \(vm)"])

        // No outcome for the down within the operation time-out: the destroy follows too.
        var (v, other) = try world()
        #expect(v.r.apply(plan([Directive(.destroy(vm: other), reason: "preempted")]), now: 2_000).count == 1)
        #expect(v.r.tick(now: 2_000 + v.r.configuration.operationTimeout).names == ["destroy \(other)"])
    }

    @Test func aVMLostWhileItsNodeGoesDownIsNotDestroyedAndItsNodeIsNotDownedTwice() throws {
        var (w, vm) = try world()
        let down = try #require(w.r.apply(plan([Directive(.destroy(vm: vm), reason: "preempted")]), now: 2_000).first)
        // Its host stops listing it before the down's outcome: lost, its down kept under way.
        #expect(w.r.onVMDestroyed(vm, now: 2_001).isEmpty)
        try w.run([down])
        #expect(w.done == ["down \(vm)"])
        #expect(w.r.vms[vm]?.gone == true && w.r.vms[vm]?.markedDown == true)
        try w.run(w.r.observe(w.slurm.snapshot(), now: w.t))
        #expect(w.done == ["down \(vm)", "remove \(vm)"])
        #expect(w.r.vms[vm] == nil)
    }

    @Test func aBusyNodeTheGuestRegisteredItselfGoesDownBeforeItsVMIsDestroyedToo() throws {
        // A guest whose `slurmd -Z` registered its node before VEM did (its Client has not joined): the node
        // runs a job, and the planner may destroy the VM, which it sees booting.
        let jobs = [ReplayJob(jobNumber: 1, group: "atlas", submitTime: 0, runTime: 100_000)]
        var w = World(slurm: try ReplayBatch(jobs: jobs), r: try atlasReconciler(), t: 100)
        let create = try #require(
            w.r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0).first)
        _ = w.r.onSucceeded(create.id, now: 0)
        let vm = create.vm
        try w.slurm.register(NodeRegistration(name: vm, group: "atlas", cpus: 2, memoryMB: 2048))
        w.slurm.advance(to: 100)
        _ = w.r.observe(w.slurm.snapshot(), now: 100)
        #expect(w.r.vms[vm]?.registered == false && w.r.vms[vm]?.busy == true)
        try w.run(w.r.apply(plan([Directive(.destroy(vm: vm), reason: "preempted")]), now: 100))
        #expect(w.done == ["down \(vm)", "destroy \(vm)"])
        #expect(w.slurm.records()[0].status == .pending)
        // Its node, which VEM never registered, is removed once a snapshot shows it.
        try w.run(w.r.observe(w.slurm.snapshot(), now: w.t))
        #expect(w.done.suffix(1) == ["remove \(vm)"])
        #expect(w.r.vms[vm] == nil)
    }
}
