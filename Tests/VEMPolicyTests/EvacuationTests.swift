import Testing

@testable import VEMPolicy

/// Emptying the hosts an operator drained (``Evacuation``).
@Suite struct EvacuationTests {
    @Test func atMostTwoMigrationsRunAtOnceAndBootingVMsWait() {
        let snapshot = PoolSnapshot(
            groups: [Build.group("a")],
            hosts: [Build.host("h1", cpus: 8, accepting: false), Build.host("h2", cpus: 8)],
            vms: [
                Build.vm("a-1", "a", on: "h1"), Build.vm("a-2", "a", on: "h1"), Build.vm("a-3", "a", on: "h1"),
                Build.vm("a-4", "a", on: "h1", .booting),
            ])
        let directives = Evacuation.directives(snapshot, configuration: PolicyConfiguration())
        #expect(directives.map(\.description).map { String($0.prefix(16)) } == ["migrate a-1 to h", "migrate a-2 to h"])
        // One already under way leaves room for one more.
        var running = snapshot
        running.vms[0].migratingTo = "h2"
        #expect(Evacuation.directives(running, configuration: PolicyConfiguration()).compactMap(\.vm) == ["a-2"])
    }

    @Test func withNoRoomElsewhereTheVMsAreDrained() {
        let snapshot = PoolSnapshot(
            groups: [Build.group("a")],
            hosts: [Build.host("h1", cpus: 2, accepting: false), Build.host("h2", cpus: 1)],
            vms: [Build.vm("a-1", "a", on: "h1", cpus: 2, memory: 2048), Build.vm("a-2", "a", on: "h2")])
        let directives = Evacuation.directives(snapshot, configuration: PolicyConfiguration())
        #expect(directives.map(\.action) == [.drain(vm: "a-1")])
        #expect(directives.first?.reason.contains("no accepting host has room") == true)
        // Nothing to do when every host accepts.
        var open = snapshot
        open.hosts[0].acceptingVMs = true
        #expect(Evacuation.directives(open, configuration: PolicyConfiguration()).isEmpty)
    }

    @Test func spreadPicksTheEmptiestHostAndPackTheFullest() {
        let snapshot = PoolSnapshot(
            groups: [Build.group("a")],
            hosts: [
                Build.host("h1", cpus: 4, accepting: false), Build.host("h2", cpus: 4), Build.host("h3", cpus: 4),
            ],
            vms: [Build.vm("a-1", "a", on: "h1"), Build.vm("a-2", "a", on: "h2")])
        let pack = Evacuation.directives(snapshot, configuration: PolicyConfiguration(placement: .pack))
        let spread = Evacuation.directives(snapshot, configuration: PolicyConfiguration(placement: .spread))
        #expect(pack.map(\.action) == [.migrate(vm: "a-1", host: "h2")])
        #expect(spread.map(\.action) == [.migrate(vm: "a-1", host: "h3")])
    }
}
