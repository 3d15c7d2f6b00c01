import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// The inventory against what a host runs (`vm.list`).
@Suite struct ReconcilerHostListTests {
    @Test func aVMTheHostNoLongerHasIsGoneAndItsNodeRemoved() throws {
        var r = try atlasReconciler()
        let kept = try activeVM(&r)
        let lost = try activeVM(&r)
        let mark = r.listMark()
        let ops = r.onHostListed(
            "h1", domains: [HostDomain(vm: kept, group: "atlas", cpus: 2, memoryMiB: 2048)], mark: mark, now: 100)
        #expect(ops.names == ["remove \(lost)"])
        #expect(r.vms[lost]?.gone == true)
        let decision = try #require(r.decisions.last)
        #expect(decision.action == .lost && decision.vm == lost && decision.reason.contains("vanished from h1"))
        #expect(r.vms[kept]?.gone == false)
        // Its node removed: the VM is forgotten.
        #expect(r.onSucceeded(ops[0].id, now: 101).isEmpty)
        #expect(r.vms[lost] == nil)
    }

    @Test func aListAskedBeforeAVMWasPlacedDoesNotJudgeIt() throws {
        var r = try atlasReconciler()
        let mark = r.listMark()
        let create = try #require(
            r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 5).first)
        _ = r.onSucceeded(create.id, now: 6)  // its outcome came before the older list's
        #expect(r.onHostListed("h1", domains: [], mark: mark, now: 7).isEmpty)
        #expect(r.vms[create.vm]?.gone == false)
        // A newer list that does not show it does.
        #expect(r.onHostListed("h1", domains: [], mark: r.listMark(), now: 8).isEmpty)
        #expect(r.vms[create.vm]?.gone == true)
        // Another host's list says nothing about it.
        var other = try atlasReconciler()
        let vm = try activeVM(&other)
        #expect(other.onHostListed("h2", domains: [], mark: other.listMark(), now: 9).isEmpty)
        #expect(other.vms[vm]?.gone == false)
    }

    @Test func aMigratingVMIsNotJudgedByEitherHost() throws {
        var r = try atlasReconciler()
        let vm = try activeVM(&r)
        _ = r.apply(plan([Directive(.migrate(vm: vm, host: "h2"), reason: "")]), now: 10)
        let mark = r.listMark()
        #expect(r.onHostListed("h1", domains: [], mark: mark, now: 11).isEmpty)
        #expect(r.vms[vm]?.gone == false)
    }

    @Test func anUnknownDomainOfAConfiguredGroupIsAdoptedAndOthersAreReportedOnce() throws {
        var r = try atlasReconciler()
        let domains = [
            HostDomain(vm: "atlas-vm-9", group: "atlas", cpus: 2, memoryMiB: 2048),
            HostDomain(vm: "cms-vm-1", group: "cms", cpus: 1, memoryMiB: 1024),
        ]
        #expect(r.onHostListed("h1", domains: domains, mark: r.listMark(), now: 50).isEmpty)
        let adopted = try #require(r.vms["atlas-vm-9"])
        #expect(adopted.stage == .booting && adopted.host == "h1" && !adopted.registered)
        #expect(r.vms["cms-vm-1"] == nil)
        #expect(r.decisions.map(\.action) == [.adopt, .unknown])
        #expect(r.decisions[1].reason.contains("group 'cms', which is not configured"))
        // Its Client joins: its node is registered; the allocator skips its number.
        #expect(r.onClientJoined("atlas-vm-9", now: 51).names == ["register atlas-vm-9"])
        let create = r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 52)
        #expect(create.names == ["create atlas-vm-10@h1"])
        // The next list reports the unknown domain no more.
        _ = r.onHostListed("h1", domains: domains, mark: r.listMark(), now: 110)
        #expect(r.decisions.filter { $0.action == .unknown }.count == 1)
    }

    @Test func aVMWhoseDomainIsShutOffIsLostAndDestroyedThenItsNodeRemoved() throws {
        var r = try atlasReconciler()
        let vm = try activeVM(&r)
        let dead = [HostDomain(vm: vm, group: "atlas", cpus: 2, memoryMiB: 2048, running: false)]
        let destroy = r.onHostListed("h1", domains: dead, mark: r.listMark(), now: 100)
        #expect(destroy.names == ["destroy \(vm)"])
        #expect(r.decisions.last?.action == .lost && r.decisions.last?.reason.contains("shut off") == true)
        // The next list while the destroy is under way changes nothing.
        #expect(r.onHostListed("h1", domains: dead, mark: r.listMark(), now: 110).isEmpty)
        #expect(r.onSucceeded(destroy[0].id, now: 111).names == ["remove \(vm)"])
        // An unknown shut-off domain of a configured group is adopted and destroyed at once.
        let ops = r.onHostListed(
            "h2", domains: [HostDomain(vm: "atlas-vm-8", group: "atlas", cpus: 2, memoryMiB: 2048, running: false)],
            mark: r.listMark(), now: 120)
        #expect(ops.names == ["destroy atlas-vm-8"])
    }

    @Test func anAdoptedVMWhoseClientNeverJoinsIsDestroyedAfterTheBootTimeout() throws {
        var r = try Reconciler(groups: [PoolGroup(name: "atlas", share: 1)], configuration: .init(bootTimeout: 100))
        _ = r.onHostListed(
            "h1", domains: [HostDomain(vm: "atlas-vm-1", group: "atlas", cpus: 1, memoryMiB: 1024)],
            mark: r.listMark(), now: 0)
        #expect(r.tick(now: 99).isEmpty)
        #expect(r.tick(now: 100).names == ["destroy atlas-vm-1"])
    }
}

/// Batch nodes against the inventory.
@Suite struct ReconcilerStrayNodeTests {
    func make() throws -> Reconciler {
        try Reconciler(groups: [PoolGroup(name: "atlas", share: 1)], configuration: .init(strayNodeGrace: 60))
    }

    @Test func aVEMNodeWithNoVMIsRemovedAfterTheGrace() throws {
        var r = try make()
        let nodes = [node("atlas-vm-3"), node("wn-01"), node("atlas-vm-x")]
        #expect(r.observe(batch(0, nodes: nodes), now: 0).isEmpty)
        #expect(r.observe(batch(59, nodes: nodes), now: 59).isEmpty)
        let ops = r.observe(batch(60, nodes: nodes), now: 60)
        // Only the node named like a VEM VM of the group: the site's own nodes are left alone.
        #expect(ops.names == ["remove atlas-vm-3"])
        #expect(r.decisions.last?.reason.contains("no VM in the inventory") == true)
        #expect(r.inventory.isEmpty)
        #expect(r.onSucceeded(ops[0].id, now: 61).isEmpty)
        #expect(r.vms.isEmpty)
    }

    @Test func aStrayNodeThatGoesAwayOrGetsItsVMIsNotRemoved() throws {
        var r = try make()
        #expect(r.observe(batch(0, nodes: [node("atlas-vm-3")]), now: 0).isEmpty)
        #expect(r.observe(batch(30, nodes: []), now: 30).isEmpty)
        #expect(r.observe(batch(90, nodes: [node("atlas-vm-3")]), now: 90).isEmpty)  // its grace starts again
        // Its VM is found on a host meanwhile: the node is its VM's.
        _ = r.onHostListed(
            "h1", domains: [HostDomain(vm: "atlas-vm-3", group: "atlas", cpus: 1, memoryMiB: 1024)],
            mark: r.listMark(), now: 100)
        #expect(r.observe(batch(200, nodes: [node("atlas-vm-3")]), now: 200).isEmpty)
        #expect(r.vms["atlas-vm-3"]?.gone == false)
    }

    @Test func aBusyStrayNodeIsRemovedOnceIdle() throws {
        var r = try make()
        #expect(r.observe(batch(0, nodes: [node("atlas-vm-5", jobs: 1)]), now: 0).isEmpty)
        #expect(r.observe(batch(60, nodes: [node("atlas-vm-5", jobs: 1)]), now: 60).isEmpty)
        #expect(r.vms["atlas-vm-5"]?.isStrayNode == true)
        #expect(r.observe(batch(120, nodes: [node("atlas-vm-5")]), now: 120).names == ["remove atlas-vm-5"])
    }
}
