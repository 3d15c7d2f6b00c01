import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// `tick` and `observe` look only at the VMs that may act (and update the others in place, unsorted): what they
/// issue and log must still come in VM name order, operation numbers included, as when every VM was visited in
/// name order.
@Suite struct ReconcilerOrderTests {
    /// `count` VMs of atlas created on h1 at 0 (their creates succeeded: booting, guests not joined yet).
    static func booting(_ count: Int) throws -> (Reconciler, [String]) {
        var r = try atlasReconciler()
        let creates = r.apply(
            plan((0..<count).map { _ in Directive(.create(group: "atlas", host: "h1"), reason: "") }), now: 0)
        for op in creates { _ = r.onSucceeded(op.id, now: 0) }
        return (r, creates.map(\.vm))
    }

    @Test func bootTimeoutsAreDestroyedInNameOrder() throws {
        var (r, names) = try Self.booting(60)
        #expect(names != names.sorted(), "the names must not be created in name order for this test to mean much")
        let logged = r.decisionsLogged
        let ops = r.tick(now: r.configuration.bootTimeout)
        #expect(ops.map(\.vm) == names.sorted())
        #expect(ops.map(\.id) == ops.map(\.id).sorted())
        #expect(Set(ops.map(\.id)).count == ops.count)
        #expect(r.decisions.suffix(r.decisionsLogged - logged).map(\.vm) == names.sorted())
    }

    @Test func nodesTheBatchSystemForgotAreRegisteredAgainInNameOrder() throws {
        var (r, names) = try Self.booting(60)
        var registers: [PoolOperation] = []
        for name in names { registers += r.onClientJoined(name, now: 1) }
        for op in registers { _ = r.onSucceeded(op.id, now: 1) }
        // Seen in the batch system, then forgotten by it.
        _ = r.observe(batch(2, nodes: names.map { node($0) }), now: 2)
        #expect(r.vms.values.allSatisfy { $0.seenInBatch && $0.idleSince == 1 })
        r.clearChangedVMs()
        // Half the nodes are busy now, the other half gone: the busy ones change in place, the others register.
        let kept = Set(names.filter { $0.hasSuffix("0") || $0.hasSuffix("3") || $0.hasSuffix("7") })
        let ops = r.observe(batch(3, nodes: kept.sorted().map { node($0, jobs: 1) }), now: 3)
        let forgotten = names.filter { !kept.contains($0) }.sorted()
        #expect(ops.names == forgotten.map { "register \($0)" })
        #expect(ops.map(\.id) == ops.map(\.id).sorted())
        for name in kept { #expect(r.vms[name]?.busy == true && r.vms[name]?.idleSince == nil) }
        #expect(r.changedVMs == Set(names))
    }
}
