import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// The reconciler notes which VMs it added, changed or removed (``Reconciler/changedVMs``), so that a Shell keeps
/// its own views (the journal's inventory, the triggers' `manager.vms`) by looking at those only.
@Suite struct ReconcilerChangeTests {
    @Test func aCreatedVMAndItsLaterChangesAreNoted() throws {
        var r = try atlasReconciler()
        #expect(r.changedVMs.isEmpty)
        let op = try #require(
            r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0).first)
        #expect(r.changedVMs == [op.vm])
        r.clearChangedVMs()
        _ = r.onSucceeded(op.id, now: 1)
        #expect(r.changedVMs == [op.vm], "booting once created")
        r.clearChangedVMs()
        r.onVMBooted(op.vm, now: 2)
        r.onVMBooted(op.vm, now: 3)
        #expect(r.changedVMs == [op.vm])
    }

    @Test func aSnapshotThatChangesNothingNotesNothing() throws {
        var r = try atlasReconciler()
        let vm = try activeVM(&r)
        _ = r.observe(batch(5, nodes: [node(vm, jobs: 1)]), now: 5)
        r.clearChangedVMs()
        _ = r.observe(batch(6, nodes: [node(vm, jobs: 1)]), now: 6)
        #expect(r.changedVMs.isEmpty, "the same busy node: nothing changed")
        _ = r.observe(batch(7, nodes: [node(vm)]), now: 7)
        #expect(r.changedVMs == [vm], "now idle")
    }

    @Test func aRemovedVMIsNoted() throws {
        var r = try atlasReconciler()
        let op = try #require(
            r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0).first)
        r.clearChangedVMs()
        _ = r.onFailed(op.id, message: "no room", now: 1)
        #expect(r.vms[op.vm] == nil)
        #expect(r.changedVMs == [op.vm])
    }
}
