import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// The operator's actions on the pool (`vem pause`, `vem host drain`, `vem vm …`), on the pure reconciler.
@Suite struct ReconcilerOperatorTests {
    let hosts = [HostState(name: "h1", cpus: 4, memoryMiB: 16_384), HostState(name: "h2", cpus: 4, memoryMiB: 16_384)]

    func make() throws -> Reconciler {
        try Reconciler(groups: [PoolGroup(name: "atlas", share: 1, vmCPUs: 1, vmMemoryMiB: 2048, template: "t")])
    }

    /// An active VM on `host`, its node in the batch system and busy.
    func activeVM(_ r: inout Reconciler, on host: String) throws -> String {
        let create = r.apply(plan([Directive(.create(group: "atlas", host: host), reason: "demand")]), now: 0)
        let op = try #require(create.first)
        _ = r.onSucceeded(op.id, now: 0)
        let register = r.onClientJoined(op.vm, now: 10)
        _ = r.onSucceeded(try #require(register.first).id, now: 10)
        #expect(r.vms[op.vm]?.stage == .active)
        return op.vm
    }

    @Test func aPausedPlannerDecidesNothingWhileTimeOutsGoOn() throws {
        var r = try make()
        let paused = try r.perform(.pause, by: "alice@127.0.0.1", now: 0)
        #expect(paused.summary == "the planner is paused" && r.paused)
        #expect(try r.perform(.pause, by: "alice@127.0.0.1", now: 0).summary == "the planner was paused already")
        // Demand for 3 VMs: nothing is created while paused.
        let step = try r.rebalance(batch: batch(100, pendingCPUs: 3), hosts: hosts, now: 100, planner: Planner())
        #expect(step.operations.isEmpty)
        #expect(step.plan.notes == ["paused by the operator (vem resume to go on)"])
        _ = try r.perform(.resume, by: "alice@127.0.0.1", now: 200)
        let resumed = try r.rebalance(batch: batch(300, pendingCPUs: 3), hosts: hosts, now: 300, planner: Planner())
        #expect(resumed.operations.names.filter { $0.hasPrefix("create") }.count == 3)
    }

    @Test func aDrainedHostsVMsAreLiveMigratedAndItTakesNoNewVM() throws {
        var r = try make()
        let vm = try activeVM(&r, on: "h1")
        let drained = try r.perform(.drainHost("h1"), by: "bob@127.0.0.1", now: 20)
        #expect(drained.summary == "h1 takes no new VMs; 1 VM on it to move")
        let step = try r.rebalance(
            batch: batch(30, pendingCPUs: 1, nodes: [node(vm, jobs: 1)]), hosts: hosts, now: 30, planner: Planner())
        #expect(step.operations.names.contains("migrate \(vm)@h2"))
        // The new VM the demand asks for goes to h2, never to the drained h1.
        #expect(step.operations.names.contains { $0.hasPrefix("create") && $0.hasSuffix("@h2") })
        #expect(!step.operations.names.contains { $0.hasSuffix("@h1") })
        let decision = try #require(r.decisions.last { $0.action == .migrate })
        #expect(decision.reason == "h1 is being drained: live-migrated to h2")
        #expect(step.snapshot[host: "h1"]?.acceptingVMs == false)
        let migrate = try #require(step.operations.first { $0.names == "migrate \(vm)@h2" })
        _ = r.onSucceeded(migrate.id, now: 60)
        #expect(r.vms[vm]?.host == "h2")
        // Resumed: h1 takes VMs again.
        #expect(try r.perform(.resumeHost("h1"), by: "bob@127.0.0.1", now: 70).summary == "h1 takes new VMs again")
        #expect(r.hostsForPlanner(hosts).allSatisfy { $0.acceptingVMs })
    }

    @Test func withoutMigrationADrainedHostsVMsAreDrainedAndRecreatedElsewhere() throws {
        var r = try make()
        let vm = try activeVM(&r, on: "h1")
        _ = try r.perform(.drainHost("h1"), by: "bob@127.0.0.1", now: 20)
        let planner = Planner(configuration: PolicyConfiguration(migrationAllowed: false))
        let step = try r.rebalance(
            batch: batch(30, pendingCPUs: 1, nodes: [node(vm, jobs: 1)]), hosts: hosts, now: 30, planner: planner)
        // Its running job finishes there; the group's waiting job gets a new VM on h2.
        #expect(step.operations.names == ["drain \(vm)", "create atlas-vm-2@h2"])
        #expect(r.decisions.contains { $0.action == .drain && $0.reason.contains("migration is off") })
    }

    @Test func vmActionsAreLoggedWithTheOperatorsName() throws {
        var r = try make()
        let vm = try activeVM(&r, on: "h1")
        let drain = try r.perform(.drainVM(vm), by: "carol@127.0.0.1", now: 40)
        #expect(drain.operations.names == ["drain \(vm)"])
        #expect(r.decisions.last?.reason == "carol@127.0.0.1: vem vm drain \(vm)")
        // One operation at a time: a second action waits.
        #expect(throws: PoolError.self) { try r.perform(.destroyVM(vm), by: "carol@127.0.0.1", now: 41) }
        _ = r.onSucceeded(drain.operations[0].id, now: 42)
        let destroy = try r.perform(.destroyVM(vm), by: "carol@127.0.0.1", now: 43)
        #expect(destroy.operations.names == ["remove \(vm)"])  // idle: its node leaves first, then the VM goes
        let other = try activeVM(&r, on: "h2")
        let forget = try r.perform(.forgetVM(other), by: "carol@127.0.0.1", now: 50)
        #expect(forget.operations.isEmpty && r.vms[other] == nil)
        #expect(r.decisions.last?.action == .forget)
        #expect(throws: PoolError.self) { try r.perform(.forgetVM("nosuch"), by: "carol@127.0.0.1", now: 51) }
        #expect(throws: PoolError.self) { try r.perform(.drainVM("nosuch"), by: "carol@127.0.0.1", now: 51) }
    }
}

extension PoolOperation {
    fileprivate var names: String { [self].names[0] }
}
