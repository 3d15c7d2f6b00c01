import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

@Suite struct ReconcilerTests {
    func make() throws -> Reconciler {
        try Reconciler(groups: [
            PoolGroup(name: "atlas", share: 60, vmCPUs: 1, vmMemoryMiB: 2048, template: "atlas-el9"),
            PoolGroup(name: "cms", share: 40),
        ])
    }

    /// Brings a new VM to active: create, created, Client joined, registered.
    func activeVM(_ r: inout Reconciler, on host: String = "h1", now: Int = 0) throws -> String {
        let create = r.apply(plan([Directive(.create(group: "atlas", host: host), reason: "demand")]), now: now)
        let op = try #require(create.first)
        #expect(r.onSucceeded(op.id, now: now).isEmpty)
        let register = r.onClientJoined(op.vm, now: now + 60)
        #expect(register.names == ["register \(op.vm)"])
        #expect(r.onSucceeded(try #require(register.first).id, now: now + 60).isEmpty)
        #expect(r.vms[op.vm]?.stage == .active)
        return op.vm
    }

    @Test func aCreateDirectiveNamesTheVMAndCreatesItFromTheTemplate() throws {
        var r = try make()
        let ops = r.apply(
            plan([
                Directive(.create(group: "atlas", host: "h1"), reason: "atlas has 2 pending CPUs"),
                Directive(.create(group: "atlas", host: "h2"), reason: "atlas has 2 pending CPUs"),
                Directive(.create(group: "cms", host: "h1"), reason: "cms waits"),
                Directive(.create(group: "nobody", host: "h1"), reason: "not configured"),
            ]), now: 100)
        #expect(ops.names == ["create atlas-vm-1@h1", "create atlas-vm-2@h2", "create cms-vm-1@h1"])
        #expect(ops[0].kind == .createVM(group: "atlas", host: "h1", template: "atlas-el9", cpus: 1, memoryMiB: 2048))
        #expect(!ops[0].isBatch)
        #expect(r.vms["atlas-vm-1"]?.phase == .booting)
        #expect(r.vms["atlas-vm-1"]?.createdAt == 100)
        let entry = try #require(r.decisions.first)
        #expect(entry.description == "t=100 create atlas-vm-1 on h1: atlas has 2 pending CPUs")
        #expect(r.decisionsLogged == 3)
        #expect(r.inventory.map(\.id) == ["atlas-vm-1", "atlas-vm-2", "cms-vm-1"])
        #expect(r.operationsInFlight.count == 3)
    }

    @Test func theFullLifeOfAVM() throws {
        var r = try make()
        let vm = try activeVM(&r)
        #expect(r.counters.created == 1)
        #expect(r.vms[vm]?.idleSince == 60)
        #expect(r.decisions.last?.action == .register)
        // Busy, then idle again.
        #expect(r.observe(batch(120, nodes: [node(vm, jobs: 1)]), now: 120).isEmpty)
        #expect(r.vms[vm]?.busy == true)
        #expect(r.vms[vm]?.idleSince == nil)
        #expect(r.observe(batch(900, nodes: [node(vm)]), now: 900).isEmpty)
        #expect(r.vms[vm]?.idleSince == 900)
        #expect(r.observe(batch(960, nodes: [node(vm)]), now: 960).isEmpty)
        #expect(r.vms[vm]?.idleSince == 900)  // still idle since 900
        // Drained: the planner sees it draining at once.
        let drain = r.apply(plan([Directive(.drain(vm: vm), reason: "surplus")]), now: 1300)
        #expect(drain.names == ["drain \(vm)"])
        #expect(drain.first?.kind == .drainNode(reason: "surplus"))
        #expect(drain.first?.isBatch == true)
        #expect(r.vms[vm]?.phase == .draining)
        #expect(r.onSucceeded(drain[0].id, now: 1300).isEmpty)
        #expect(r.counters.drained == 1)
        // Destroyed once idle: the node is removed first, then the VM destroyed.
        let remove = r.apply(plan([Directive(.destroy(vm: vm), reason: "drained and idle")]), now: 1360)
        #expect(remove.names == ["remove \(vm)"])
        let destroy = r.onSucceeded(remove[0].id, now: 1360)
        #expect(destroy.names == ["destroy \(vm)"])
        #expect(destroy.first?.kind == .destroyVM(host: "h1"))
        #expect(r.onSucceeded(destroy[0].id, now: 1361).isEmpty)
        #expect(r.vms[vm] == nil)
        #expect(r.counters.destroyed == 1)
        #expect(r.counters.busyDestroyed == 0)
        #expect(r.operationsInFlight.isEmpty)
    }

    /// A Manager reads the batch system through properties, so its snapshot may predate a drain it sent: a job
    /// that started on the node between that snapshot and the drain is not in it. Such a snapshot cannot show the
    /// drained VM idle; one taken after the drain can.
    @Test func aSnapshotOlderThanTheDrainDoesNotMakeTheDrainedVMIdle() throws {
        var r = try make()
        let vm = try activeVM(&r)
        #expect(r.observe(batch(600, nodes: [node(vm)]), now: 600).isEmpty)
        let drain = r.apply(plan([Directive(.drain(vm: vm), reason: "surplus")]), now: 1000)
        #expect(r.onSucceeded(drain[0].id, now: 1000).isEmpty)
        #expect(r.vms[vm]?.drainedAt == 1000)
        // Taken at 990, before the drain: idle in it, yet busy for the planner (nothing to destroy on); the
        // VM's own record is left as it was.
        let stale = batch(990, nodes: [node(vm)])
        #expect(r.observe(stale, now: 1010).isEmpty)
        #expect(r.vms[vm]?.idleSince == 60)  // idle since its registration
        let before = try #require(r.snapshot(batch: stale, hosts: []).vms.first { $0.id == vm })
        #expect(before.busy)
        #expect(before.idleSince == nil)
        // Busy on a stale snapshot is believed: a job ran on it.
        #expect(r.observe(batch(995, nodes: [node(vm, jobs: 1)]), now: 1015).isEmpty)
        #expect(r.vms[vm]?.busy == true)
        #expect(r.vms[vm]?.idleSince == nil)
        // Taken at 1020, after the drain: idle, and destroyable.
        let fresh = batch(1020, nodes: [node(vm, draining: true)])
        #expect(r.observe(fresh, now: 1030).isEmpty)
        #expect(r.vms[vm]?.busy == false)
        #expect(r.vms[vm]?.idleSince == 1030)
        let after = try #require(r.snapshot(batch: fresh, hosts: []).vms.first { $0.id == vm })
        #expect(!after.busy)
        #expect(after.idleSince == 1030)
    }

    @Test func aClientThatJoinsBeforeTheCreateResultIsRegisteredAfterIt() throws {
        var r = try make()
        let op = try #require(r.apply(plan([Directive(.create(group: "cms", host: "h1"), reason: "")]), now: 0).first)
        #expect(r.onClientJoined(op.vm, now: 5).isEmpty)  // creation not confirmed yet
        let next = r.onSucceeded(op.id, now: 6)
        #expect(next.names == ["register cms-vm-1"])
        #expect(
            next.first?.kind == .registerNode(NodeRegistration(name: "cms-vm-1", group: "cms", cpus: 1, memoryMB: 2048))
        )
    }

    @Test func aFailedCreateForgetsTheVMAndIsLogged() throws {
        var r = try make()
        let op = try #require(r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0).first)
        #expect(r.onFailed(op.id, message: "no room", now: 3).isEmpty)
        #expect(r.vms.isEmpty)
        #expect(r.counters.failed == 1)
        #expect(r.decisions.last?.action == .failed)
        #expect(r.decisions.last?.reason.contains("no room") == true)
        // The name is not reused: a later VM gets the next number.
        let again = r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 60)
        #expect(again.names == ["create atlas-vm-2@h1"])
    }

    @Test func registrationIsRetriedThenTheVMIsDestroyed() throws {
        var r = try Reconciler(
            groups: [PoolGroup(name: "atlas", share: 1)], configuration: .init(maxRegisterAttempts: 2))
        let op = try #require(r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0).first)
        _ = r.onSucceeded(op.id, now: 0)
        let first = try #require(r.onClientJoined(op.vm, now: 60).first)
        // Retried after the back-off (10 s), not at once.
        #expect(r.onFailed(first.id, message: "slurmctld down", now: 61).isEmpty)
        #expect(r.vms[op.vm]?.stage == .registering)
        #expect(r.tick(now: 70).isEmpty)
        let retry = r.tick(now: 71)
        #expect(retry.names == ["register atlas-vm-1"])
        let giveUp = r.onFailed(try #require(retry.first).id, message: "slurmctld down", now: 72)
        #expect(giveUp.names == ["destroy atlas-vm-1"])
        #expect(r.vms[op.vm]?.stage == .destroying)
        #expect(r.onSucceeded(giveUp[0].id, now: 73).isEmpty)
        // Never registered by VEM: kept (out of the inventory) until a batch snapshot shows no node of its own.
        #expect(r.inventory.isEmpty)
        #expect(r.observe(batch(73), now: 74).isEmpty)
        #expect(r.vms.isEmpty)
        #expect(r.counters.failed == 2)
    }

    @Test func aFailedDrainLeavesTheVMActive() throws {
        var r = try make()
        let vm = try activeVM(&r)
        let drain = r.apply(plan([Directive(.drain(vm: vm), reason: "")]), now: 700)
        #expect(r.onFailed(drain[0].id, message: "timeout", now: 701).isEmpty)
        #expect(r.vms[vm]?.stage == .active)
    }

    @Test func directivesForAVMWithAnOperationUnderWayWaitForTheNextPlan() throws {
        var r = try make()
        let vm = try activeVM(&r)
        let drain = r.apply(plan([Directive(.drain(vm: vm), reason: "")]), now: 700)
        #expect(drain.count == 1)
        // Drain not confirmed: a destroy and a second drain are skipped.
        let again = r.apply(
            plan([Directive(.destroy(vm: vm), reason: ""), Directive(.drain(vm: vm), reason: "")]), now: 760)
        #expect(again.isEmpty)
        // Unknown VMs are skipped too.
        #expect(r.apply(plan([Directive(.destroy(vm: "ghost"), reason: "")]), now: 760).isEmpty)
    }

    @Test func destroyingABusyVMMarksItsNodeDownThenDestroysItAndRemovesTheNodeOnceItIsIdle() throws {
        var r = try make()
        let vm = try activeVM(&r)
        _ = r.observe(batch(100, nodes: [node(vm, jobs: 1)]), now: 100)
        let down = r.apply(plan([Directive(.destroy(vm: vm), reason: "preempted for cms")]), now: 2000)
        try #require(down.names == ["down \(vm)"])  // main: destroy first, the node left up
        #expect(r.vms[vm]?.stage == .destroying)
        let ops = r.onSucceeded(down[0].id, now: 2000)
        try #require(ops.names == ["destroy \(vm)"])
        #expect(r.onSucceeded(ops[0].id, now: 2001).isEmpty)  // node not seen idle yet: the batch system may refuse
        #expect(r.counters.busyDestroyed == 1)
        #expect(r.vms[vm]?.gone == true)
        let retry = r.observe(batch(2060, nodes: [node(vm, draining: true)]), now: 2060)
        #expect(retry.names == ["remove \(vm)"])
        #expect(r.onSucceeded(retry[0].id, now: 2060).isEmpty)
        #expect(r.vms[vm] == nil)
    }

    @Test func aVMThatVanishesIsLoggedAndItsNodeRemoved() throws {
        var r = try make()
        let vm = try activeVM(&r)
        let ops = r.onVMDestroyed(vm, now: 500)
        #expect(ops.names == ["remove \(vm)"])
        #expect(r.decisions.last?.action == .lost)
        #expect(r.counters.destroyed == 1)
        _ = r.onSucceeded(ops[0].id, now: 501)
        #expect(r.vms.isEmpty)
        // A report for a VM no longer known changes nothing.
        #expect(r.onVMDestroyed(vm, now: 502).isEmpty)
    }

    @Test func theDestroyedEventSettlesAnExpectedDestroy() throws {
        var r = try make()
        let op = try #require(r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0).first)
        _ = r.onSucceeded(op.id, now: 0)
        let destroy = r.apply(plan([Directive(.destroy(vm: op.vm), reason: "")]), now: 10)
        #expect(destroy.names == ["destroy atlas-vm-1"])
        #expect(r.onVMDestroyed(op.vm, now: 11).isEmpty)
        #expect(r.observe(batch(12), now: 12).isEmpty)
        #expect(r.vms.isEmpty)
        #expect(r.decisions.last?.action == .destroy)  // not "lost"
        #expect(r.onSucceeded(destroy[0].id, now: 12).isEmpty)  // the late result is ignored
        #expect(r.counters.destroyed == 1)
    }

    @Test func migrationsMoveTheVMOnlyWhenTheySucceed() throws {
        var r = try make()
        let vm = try activeVM(&r)
        let m = r.apply(plan([Directive(.migrate(vm: vm, host: "h2"), reason: "make room")]), now: 700)
        #expect(m.names == ["migrate \(vm)@h2"])
        #expect(r.inventory.first?.migratingTo == "h2")
        _ = r.onSucceeded(m[0].id, now: 730)
        #expect(r.vms[vm]?.host == "h2")
        #expect(r.vms[vm]?.migratingTo == nil)
        #expect(r.counters.migrated == 1)
        let back = r.apply(plan([Directive(.migrate(vm: vm, host: "h1"), reason: "")]), now: 800)
        _ = r.onFailed(back[0].id, message: "no shared storage", now: 801)
        #expect(r.vms[vm]?.host == "h2")
        #expect(r.vms[vm]?.migratingTo == nil)
    }

    @Test func aNodeForgottenByTheBatchSystemIsRegisteredAgain() throws {
        var r = try make()
        let vm = try activeVM(&r)
        #expect(r.observe(batch(120, nodes: [node(vm)]), now: 120).isEmpty)
        let ops = r.observe(batch(300), now: 300)
        #expect(ops.names == ["register \(vm)"])  // registered at 60, seen at 120, absent from a snapshot of 300
        #expect(r.vms[vm]?.phase == .booting)
    }

    /// Slurm keeps a registered node FUTURE, and out of `sinfo`, until the VM's slurmd starts: snapshots without
    /// it before it first showed up are no sign that it was forgotten (registering again would fail: the name
    /// is taken).
    @Test func aRegisteredNodeNotYetShownByTheBatchSystemIsNotRegisteredAgain() throws {
        var r = try make()
        let vm = try activeVM(&r)  // registered at t=60
        #expect(r.observe(batch(61), now: 61).isEmpty)
        #expect(r.observe(batch(300), now: 300).isEmpty)
        #expect(r.vms[vm]?.stage == .active)
        #expect(r.vms[vm]?.registered == true)
        // Once it has shown up, a snapshot without it does mean the batch system forgot it.
        #expect(r.observe(batch(301, nodes: [node(vm)]), now: 301).isEmpty)
        #expect(r.observe(batch(302), now: 302).names == ["register \(vm)"])
    }

    @Test func aSnapshotOlderThanTheRegistrationDoesNotForgetTheNode() throws {
        var r = try make()
        let vm = try activeVM(&r)  // registered at t=60
        #expect(r.observe(batch(60, nodes: [node(vm)]), now: 60).isEmpty)
        // A snapshot fetched before the registration was confirmed (t=59, or the same instant) lacks the node.
        #expect(r.observe(batch(59), now: 61).isEmpty)
        #expect(r.observe(batch(60), now: 61).isEmpty)
        #expect(r.vms[vm]?.stage == .active)
        // A later one that still lacks it means the batch system forgot it.
        #expect(r.observe(batch(61), now: 62).names == ["register \(vm)"])
    }

    @Test func adoptedVMsKeepTheirNamesAndTheAllocatorSkipsThem() throws {
        var r = try make()
        try r.adopt(
            VMRecord(
                id: "atlas-vm-7", group: "atlas", host: "h1", phase: .active, createdAt: 0, cpus: 1,
                memoryMiB: 2048), registered: true)
        #expect(throws: PoolError.self) {
            try r.adopt(
                VMRecord(
                    id: "atlas-vm-7", group: "atlas", host: "h1", phase: .active, createdAt: 0, cpus: 1,
                    memoryMiB: 2048), registered: true)
        }
        #expect(throws: PoolError.self) {
            try r.adopt(
                VMRecord(
                    id: "x-vm-1", group: "x", host: "h1", phase: .active, createdAt: 0, cpus: 1,
                    memoryMiB: 2048), registered: true)
        }
        let ops = r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0)
        #expect(ops.names == ["create atlas-vm-8@h1"])
        #expect(r.vms["atlas-vm-7"]?.stage == .active)
    }

    @Test func theDecisionLogIsBounded() throws {
        var r = try Reconciler(groups: [PoolGroup(name: "a", share: 1)], configuration: .init(decisionLogLimit: 3))
        for i in 0..<5 { _ = r.apply(plan([Directive(.create(group: "a", host: "h"), reason: "\(i)")]), now: i) }
        #expect(r.decisions.map(\.reason) == ["2", "3", "4"])
        #expect(r.decisionsLogged == 5)
    }

    @Test func aNodeItsGuestRegisteredIsRemovedAfterTheVMIsGone() throws {
        var r = try make()
        let op = try #require(r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0).first)
        _ = r.onSucceeded(op.id, now: 0)
        // Destroyed before its Client joined (so before VEM registered its node); its guest's slurmd had.
        let destroy = try #require(r.apply(plan([Directive(.destroy(vm: op.vm), reason: "")]), now: 10).first)
        #expect(r.onSucceeded(destroy.id, now: 11).isEmpty)
        #expect(r.inventory.isEmpty)
        // A snapshot older than the destroy proves nothing.
        #expect(r.observe(batch(5, nodes: [node(op.vm)]), now: 12).isEmpty)
        #expect(r.vms[op.vm] != nil)
        let remove = r.observe(batch(12, nodes: [node(op.vm)]), now: 12)
        #expect(remove.names == ["remove atlas-vm-1"])
        #expect(r.decisions.last?.action == .lost)
        #expect(r.onSucceeded(try #require(remove.first).id, now: 13).isEmpty)
        #expect(r.vms.isEmpty)
    }
}

@Suite struct ReconcilerReservationTests {
    @Test func theReconcilerPassesThePlansReservationBackToTheNextSnapshot() throws {
        // Two groups of equal share on 16 vCPUs, each with a first job of 10 CPUs: either fits beside the other,
        // not both. cms's has waited longer, so the first step reserves for it; then atlas's job waits longer
        // still, but cms's reservation is kept while its job waits first in its queue.
        var r = try Reconciler(groups: [PoolGroup(name: "atlas", share: 1), PoolGroup(name: "cms", share: 1)])
        let hosts = (1...4).map { HostState(name: "h\($0)", cpus: 4, memoryMiB: 8192) }
        func demand(_ now: Int, atlasWait: Int, cmsWait: Int) -> BatchSnapshot {
            BatchSnapshot(
                time: now,
                groups: [
                    GroupDemand(
                        group: "atlas", pendingJobs: 1, pendingCPUs: 10, longestWait: atlasWait, headJobCPUs: 10),
                    GroupDemand(group: "cms", pendingJobs: 1, pendingCPUs: 10, longestWait: cmsWait, headJobCPUs: 10),
                ])
        }
        let planner = Planner()
        let first = try r.rebalance(
            batch: demand(1000, atlasWait: 100, cmsWait: 500), hosts: hosts, now: 1000,
            planner: planner)
        #expect(first.plan.reservation == Reservation(group: "cms", submittedAt: 500))
        #expect(r.reservation == first.plan.reservation)
        let second = try r.rebalance(
            batch: demand(1060, atlasWait: 5000, cmsWait: 560), hosts: hosts, now: 1060,
            planner: planner)
        #expect(second.snapshot.reservation == Reservation(group: "cms", submittedAt: 500))
        #expect(second.plan[group: "cms"]?.targetVMs == 10)
    }
}
