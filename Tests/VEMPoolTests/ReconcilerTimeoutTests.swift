import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// No stage waits forever: time-outs, retries with back-off, and operations on absent objects.
@Suite struct ReconcilerTimeoutTests {
    static let configuration = Reconciler.Configuration(
        operationTimeout: 100, migrationTimeout: 500, bootTimeout: 200, maxAttempts: 3, retryBackoff: 10, maxBackoff: 15
    )

    func make() throws -> Reconciler {
        try Reconciler(groups: [PoolGroup(name: "atlas", share: 1)], configuration: Self.configuration)
    }

    /// A VM created on h1 and confirmed at `now` (stage `booting`).
    func booting(_ r: inout Reconciler, now: Int = 0) throws -> String {
        let op = try #require(
            r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: now).first)
        #expect(r.onSucceeded(op.id, now: now).isEmpty)
        return op.vm
    }

    /// An active VM (created, joined, registered at `now`).
    func active(_ r: inout Reconciler, now: Int = 0) throws -> String {
        let vm = try booting(&r, now: now)
        let register = try #require(r.onClientJoined(vm, now: now).first)
        #expect(r.onSucceeded(register.id, now: now).isEmpty)
        return vm
    }

    @Test func theBackOffDoublesUpToItsCap() {
        let c = Self.configuration
        #expect((1...4).map { c.backoff(attempt: $0) } == [10, 15, 15, 15])
        #expect(Reconciler.Configuration().backoff(attempt: 3) == 40)
        #expect(Reconciler.Configuration(retryBackoff: 0).backoff(attempt: 9) == 0)
    }

    @Test func aCreateWithoutAnOutcomeIsDestroyedInCaseItWasMade() throws {
        var r = try make()
        let op = try #require(r.apply(plan([Directive(.create(group: "atlas", host: "h1"), reason: "")]), now: 0).first)
        #expect(r.tick(now: 99).isEmpty)
        let next = r.tick(now: 100)
        #expect(next.names == ["destroy atlas-vm-1"])
        #expect(r.vms[op.vm]?.stage == .destroying)
        #expect(r.decisions.contains { $0.action == .failed && $0.reason.contains("timed out") && $0.time == 100 })
        // The late outcome of the create is ignored: the destroy is what is under way.
        #expect(r.onSucceeded(op.id, now: 101).isEmpty)
        #expect(r.vms[op.vm]?.pending == next[0].id)
    }

    @Test func aVMWhoseClientNeverJoinsIsDestroyedAfterTheBootTimeout() throws {
        var r = try make()
        let vm = try booting(&r, now: 0)
        #expect(r.tick(now: 199).isEmpty)
        let next = r.tick(now: 200)
        #expect(next.names == ["destroy \(vm)"])
        let decision = try #require(r.decisions.last)
        #expect(decision.action == .destroy && decision.reason.contains("did not join within 200 s"))
        // A VM whose Client joined is not affected.
        var other = try make()
        let joined = try booting(&other, now: 0)
        _ = other.onClientJoined(joined, now: 10)
        #expect(!other.tick(now: 1000).names.contains("destroy \(joined)"))
        #expect(other.vms[joined]?.stage == .registering)
    }

    @Test func anAdoptedBootingVMCountsItsBootTimeFromTheFirstTick() throws {
        var r = try make()
        try r.adopt(
            VMRecord(
                id: "atlas-vm-3", group: "atlas", host: "h1", phase: .booting, createdAt: 0, cpus: 1, memoryMiB: 1024),
            registered: false)
        #expect(r.tick(now: 5000).isEmpty)
        #expect(r.tick(now: 5199).isEmpty)
        #expect(r.tick(now: 5200).names == ["destroy atlas-vm-3"])
    }

    @Test func aRegistrationWithoutAnOutcomeIsRetriedThenTheVMIsDestroyed() throws {
        var r = try make()
        let vm = try booting(&r, now: 0)
        let register = r.onClientJoined(vm, now: 10)
        #expect(register.names == ["register \(vm)"])
        #expect(r.tick(now: 110).isEmpty)  // timed out; retried after 10 s
        #expect(r.vms[vm]?.stage == .registering && r.vms[vm]?.pending == nil)
        let retry = r.tick(now: 120)
        #expect(retry.names == ["register \(vm)"])
        #expect(r.tick(now: 220).isEmpty)  // second time-out: retried after 15 s
        let third = r.tick(now: 235)
        #expect(third.names == ["register \(vm)"])
        // The third failure reaches maxRegisterAttempts (3): the VM is destroyed.
        #expect(r.tick(now: 335).names == ["destroy \(vm)"])
        #expect(r.vms[vm]?.registerAttempts == 3)
    }

    @Test func aDestroyThatFindsTheVMAbsentCountsAsDone() throws {
        var r = try make()
        let vm = try booting(&r, now: 0)
        let destroy = r.apply(plan([Directive(.destroy(vm: vm), reason: "surplus")]), now: 50)
        #expect(destroy.names == ["destroy \(vm)"])
        let next = r.onFailed(
            destroy[0].id, message: "not_found: vm.destroy: no VEM domain with vm id '\(vm)' on this host", now: 51)
        #expect(next.isEmpty)
        #expect(r.counters.failed == 0 && r.counters.destroyed == 1)
        #expect(r.vms[vm]?.gone == true)
        #expect(r.decisions.last?.action == .lost && r.decisions.last?.reason.contains("counts as done") == true)
        // Never registered: forgotten once a batch snapshot shows no node of its own.
        #expect(r.observe(batch(60), now: 60).isEmpty)
        #expect(r.vms[vm] == nil)
    }

    @Test func aRemoveThatFindsTheNodeAbsentCountsAsDone() throws {
        var r = try make()
        let vm = try active(&r, now: 0)
        let remove = r.apply(plan([Directive(.destroy(vm: vm), reason: "surplus")]), now: 50)
        #expect(remove.names == ["remove \(vm)"])
        let next = r.onFailed(remove[0].id, message: "not_found: scontrol delete failed: Invalid node name", now: 51)
        #expect(next.names == ["destroy \(vm)"])
        #expect(r.vms[vm]?.registered == false)
    }

    @Test func aDestroyThatKeepsFailingIsRetriedWithBackOffThenForgotten() throws {
        var r = try make()
        let vm = try booting(&r, now: 0)
        var op = try #require(r.apply(plan([Directive(.destroy(vm: vm), reason: "")]), now: 10).first)
        #expect(r.onFailed(op.id, message: "failed: libvirtd unreachable", now: 11).isEmpty)
        #expect(r.vms[vm]?.stage == .destroying)
        #expect(r.tick(now: 20).isEmpty)
        op = try #require(r.tick(now: 21).first)
        #expect(op.kind == .destroyVM(host: "h1"))
        #expect(r.onFailed(op.id, message: "failed: libvirtd unreachable", now: 22).isEmpty)
        op = try #require(r.tick(now: 37).first)  // second back-off: 15 s (the cap)
        #expect(r.onFailed(op.id, message: "failed: libvirtd unreachable", now: 38).isEmpty)
        // Third failure: maxAttempts reached, the VM is forgotten with a decision.
        #expect(r.vms[vm] == nil)
        let decision = try #require(r.decisions.last)
        #expect(decision.action == .forget && decision.reason.contains("3 attempts"))
        #expect(r.operationsInFlight.isEmpty)
    }

    @Test func aMigrationHasItsOwnTimeout() throws {
        var r = try make()
        let vm = try active(&r, now: 0)
        let migrate = r.apply(plan([Directive(.migrate(vm: vm, host: "h2"), reason: "")]), now: 10)
        #expect(migrate.names == ["migrate \(vm)@h2"])
        #expect(r.tick(now: 500).isEmpty)
        #expect(r.vms[vm]?.migratingTo == "h2")
        #expect(r.tick(now: 510).isEmpty)
        #expect(r.vms[vm]?.migratingTo == nil && r.vms[vm]?.host == "h1" && r.vms[vm]?.pending == nil)
    }

    @Test func aRebalanceRunsTheTimeOuts() throws {
        var r = try make()
        let vm = try booting(&r, now: 0)
        let planner = Planner(configuration: PolicyConfiguration())
        let step = try r.rebalance(
            batch: batch(300), hosts: [HostState(name: "h1", cpus: 8, memoryMiB: 16_384)], now: 300, planner: planner)
        #expect(step.operations.names.contains("destroy \(vm)"))
    }
}
