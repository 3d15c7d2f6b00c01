import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// VM names are never given out twice, also across a Manager restart (the chaos test found `atlas-vm-2` created
/// again after a restart, while Slurm still knew the first one's node and its guest's job steps).
@Suite struct ReconcilerNameTests {
    func make() throws -> Reconciler {
        try Reconciler(groups: [
            PoolGroup(name: "atlas", share: 1, vmCPUs: 2, vmMemoryMiB: 2048),
            PoolGroup(name: "cms-b", share: 1, vmCPUs: 2, vmMemoryMiB: 2048),
        ])
    }

    func create(_ r: inout Reconciler, _ group: String) throws -> String {
        try #require(r.apply(plan([Directive(.create(group: group, host: "h1"), reason: "")]), now: 0).first).vm
    }

    @Test func reservedNamesAreNotGivenToNewVMs() throws {
        var r = try make()
        r.reserveNames(["atlas-vm-2", "atlas-vm-7", "cms-b-vm-3", "other-vm-9", "atlas-vm-x", "atlas", "atlas-vm-0"])
        #expect(try create(&r, "atlas") == "atlas-vm-8")
        #expect(try create(&r, "cms-b") == "cms-b-vm-4")
        // A lower reservation changes nothing.
        r.reserveNames(["atlas-vm-1"])
        #expect(try create(&r, "atlas") == "atlas-vm-9")
    }

    @Test func withoutReservationsNamesStartAtOne() throws {
        var r = try make()
        #expect(try create(&r, "atlas") == "atlas-vm-1")
        #expect(try create(&r, "atlas") == "atlas-vm-2")
    }
}
