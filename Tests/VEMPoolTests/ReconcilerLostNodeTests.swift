import Testing
import VEMBatch
import VEMCore
import VEMPolicy

@testable import VEMPool

/// A VM the Manager finds lost — its host stops listing it, or the host and its guest are gone — must not stay a
/// batch node that takes jobs: an idle one is removed at once, a busy one is marked down (the batch system starts
/// nothing there and ends the jobs that died with the VM) and removed once idle.
@Suite struct ReconcilerLostNodeTests {
    @Test func aBusyVMTheHostNoLongerListsHasItsNodeMarkedDownThenRemovedOnceIdle() throws {
        var r = try atlasReconciler()
        let vm = try activeVM(&r)
        _ = r.observe(batch(10, nodes: [node(vm, jobs: 1)]), now: 10)
        let ops = r.onHostListed("h1", domains: [], mark: r.listMark(), now: 100)
        #expect(ops.names == ["down \(vm)"])
        let down = try #require(ops.first)
        #expect(r.decisions.last?.action == .lost && r.decisions.last?.reason.contains("while running a job") == true)
        // As the batch Client's command: `slurm.down NODE REASON`, the reason one argument.
        let command = PoolCommandMapping().command(for: down)
        #expect(command.target == .batch && command.name == "slurm.down")
        #expect(command.arguments == [NamedValue("", .string(vm)), NamedValue("", .string("vem: \(vm) lost"))])
        #expect(PoolCommandMapping(batchPrefix: "replay").command(for: down).name == "replay.down")
        // Down: nothing more until the batch system lets go of the node, then it is removed and the VM forgotten.
        #expect(r.onSucceeded(down.id, now: 101).isEmpty)
        #expect(r.vms[vm]?.markedDown == true)
        #expect(r.observe(batch(110, nodes: [node(vm, jobs: 1)]), now: 110).isEmpty)
        let remove = r.observe(batch(120, nodes: [node(vm)]), now: 120)
        #expect(remove.names == ["remove \(vm)"])
        #expect(r.onSucceeded(try #require(remove.first).id, now: 121).isEmpty)
        #expect(r.vms[vm] == nil)
    }

    @Test func anIdleLostVMHasItsNodeRemovedAtOnceAndAFailedDownIsNotRetried() throws {
        var r = try atlasReconciler()
        let idle = try activeVM(&r)
        #expect(r.onVMDestroyed(idle, now: 50).names == ["remove \(idle)"])
        let busy = try activeVM(&r)
        _ = r.observe(batch(60, nodes: [node(busy, jobs: 2)]), now: 60)
        let down = r.onVMDestroyed(busy, now: 70)
        #expect(down.names == ["down \(busy)"])
        // A refused down leaves the node to its removal once idle: not asked again.
        #expect(r.onFailed(try #require(down.first).id, message: "failed: slurmctld said no", now: 71).isEmpty)
        #expect(r.observe(batch(80, nodes: [node(busy, jobs: 2)]), now: 80).isEmpty)
        #expect(r.observe(batch(90, nodes: [node(busy)]), now: 90).names == ["remove \(busy)"])
    }

    @Test func aVMPreemptedByVEMIsMarkedDownOnceBeforeItsDestroyNotAgainAfter() throws {
        var r = try atlasReconciler()
        let vm = try activeVM(&r)
        _ = r.observe(batch(100, nodes: [node(vm, jobs: 1)]), now: 100)
        let down = r.apply(plan([Directive(.destroy(vm: vm), reason: "preempted")]), now: 2000)
        #expect(down.names == ["down \(vm)"])
        // As the batch Client's command: `slurm.down NODE REASON`.
        let command = PoolCommandMapping().command(for: try #require(down.first))
        #expect(command.arguments.last == NamedValue("", .string("vem: \(vm) preempted")))
        let destroy = r.onSucceeded(try #require(down.first).id, now: 2001)
        #expect(destroy.names == ["destroy \(vm)"])
        // A snapshot between the down and the destroy's outcome shows the node idle (its job requeued): nothing is
        // asked until the destroy is done, then the node is removed at once, and the VM counts as destroyed busy.
        #expect(r.observe(batch(2001, nodes: [node(vm, draining: true)]), now: 2001).isEmpty)
        let remove = r.onSucceeded(try #require(destroy.first).id, now: 2002)
        #expect(remove.names == ["remove \(vm)"])
        #expect(r.counters.busyDestroyed == 1)
    }

    @Test func aLostHostLosesTheVMsWhoseGuestsAreGoneToo() throws {
        var r = try atlasReconciler()
        let busy = try activeVM(&r)
        let idle = try activeVM(&r)
        let stillTalking = try activeVM(&r)
        let elsewhere = try activeVM(&r, on: "h2")
        _ = r.observe(
            batch(10, nodes: [node(busy, jobs: 1), node(idle), node(stillTalking), node(elsewhere)]), now: 10)
        let ops = r.onHostLost("h1", keep: [stillTalking], absentFor: 130, now: 200)
        #expect(Set(ops.names) == ["down \(busy)", "remove \(idle)"])
        #expect(r.vms[stillTalking]?.gone == false && r.vms[elsewhere]?.gone == false)
        let lost = r.decisions.filter { $0.action == .lost }
        #expect(lost.count == 2 && lost.allSatisfy { $0.reason.contains("h1 is gone (no Dom0 Client for 130 s)") })
        // Once the last guest is gone too, its VM is lost as well.
        #expect(r.onHostLost("h1", keep: [], absentFor: 140, now: 210).names == ["remove \(stillTalking)"])
    }
}
