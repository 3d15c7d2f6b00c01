import Testing
import VEMBatch
import VEMConfig
import VEMCore
import VEMPolicy

@testable import VEMPool

@Suite struct SnapshotBuilderTests {
    let groups = [
        PoolGroup(name: "atlas", share: 60, vmCPUs: 2, vmMemoryMiB: 4096, minVMs: 1, maxVMs: 10),
        PoolGroup(name: "cms", share: 40),
    ]

    @Test func demandComesFromTheBatchGroupOfTheSameName() {
        let batch = BatchSnapshot(
            time: 100,
            groups: [
                GroupDemand(
                    group: "atlas", pendingJobs: 3, pendingCPUs: 5, runningJobs: 2, runningCPUs: 2, longestWait: 42),
                GroupDemand(group: "lhcb", pendingJobs: 9, pendingCPUs: 9),
            ])
        let s = PoolSnapshotBuilder.build(groups: groups, batch: batch, vms: [], hosts: [])
        #expect(s.groups.map(\.name) == ["atlas", "cms"])  // lhcb is not configured: ignored
        let atlas = s[group: "atlas"]
        #expect(atlas != nil)
        #expect(atlas?.pendingCPUs == 5)
        #expect(atlas?.pendingJobs == 3)
        #expect(atlas?.runningJobs == 2)
        #expect(atlas?.oldestPendingWait == 42)
        #expect(atlas?.pendingVMs == 3)  // ceil(5 / 2)
        #expect(atlas?.share == 60)
        #expect(atlas?.minVMs == 1)
        #expect(atlas?.maxVMs == 10)
        #expect(s[group: "cms"]?.pendingCPUs == 0)  // unknown to the batch system: no demand
    }

    @Test func aVMIsBusyWhenItsNodeRunsWork() {
        let batch = BatchSnapshot(
            time: 500,
            groups: [
                GroupDemand(
                    group: "atlas",
                    nodes: [
                        BatchNode(
                            name: "atlas-vm-1", group: "atlas", cpus: 2, memoryMB: 0, allocatedCPUs: 1,
                            runningJobs: 1, state: .mixed),
                        BatchNode(name: "atlas-vm-2", group: "atlas", cpus: 2, memoryMB: 0, state: .idle),
                    ])
            ])
        let vms = [
            VMRecord(
                id: "atlas-vm-1", group: "atlas", host: "h1", phase: .active, createdAt: 0, idleSince: 10,
                cpus: 2, memoryMiB: 4096),
            VMRecord(
                id: "atlas-vm-2", group: "atlas", host: "h1", phase: .active, createdAt: 0, idleSince: 300,
                cpus: 2, memoryMiB: 4096),
            VMRecord(
                id: "atlas-vm-3", group: "atlas", host: "h2", phase: .booting, createdAt: 450, cpus: 2,
                memoryMiB: 4096),
        ]
        let hosts = [HostState(name: "h1", cpus: 8, memoryMiB: 16384, freeCPUs: 4, freeMemoryMiB: 8192)]
        let s = PoolSnapshotBuilder.build(groups: groups, batch: batch, vms: vms, hosts: hosts)
        #expect(s[vm: "atlas-vm-1"]?.busy == true)
        #expect(s[vm: "atlas-vm-1"]?.idleSince == nil)
        #expect(s[vm: "atlas-vm-2"]?.busy == false)
        #expect(s[vm: "atlas-vm-2"]?.idleSince == 300)
        #expect(s[vm: "atlas-vm-3"]?.busy == false)
        #expect(s[vm: "atlas-vm-3"]?.phase == .booting)
        #expect(s.hosts == hosts)
    }

    @Test func groupsComeFromTheConfiguration() {
        let here = SourceLocation(file: "site.ini", line: 1, column: 1)
        let atlas = PoolGroup(
            GroupDefinition(
                name: "atlas", share: 40, template: "el9", vmMemoryMiB: 8192, vmVCPUs: 4, minVMs: 2,
                maxVMs: 30, location: here))
        #expect(
            atlas
                == PoolGroup(
                    name: "atlas", share: 40, vmCPUs: 4, vmMemoryMiB: 8192, template: "el9", minVMs: 2,
                    maxVMs: 30))
        let spare = PoolGroup(GroupDefinition(name: "spare", share: 0, location: here))
        #expect(spare.share == PoolGroup.leftoverShare)
        #expect(spare.template == "spare")
    }

    @Test func badGroupListsAreRefused() {
        #expect(throws: PoolError.self) {
            try Reconciler(groups: [PoolGroup(name: "a", share: 1), PoolGroup(name: "a", share: 2)])
        }
        #expect(throws: PoolError.self) { try Reconciler(groups: [PoolGroup(name: "a", share: 0)]) }
        #expect(throws: PoolError.self) { try Reconciler(groups: [PoolGroup(name: "", share: 1)]) }
        #expect(throws: PoolError.self) { try Reconciler(groups: [PoolGroup(name: "a", share: 1, vmCPUs: 0)]) }
        #expect(throws: PoolError.self) {
            try Reconciler(groups: [PoolGroup(name: "a", share: 1, minVMs: 3, maxVMs: 2)])
        }
    }
}
