import Foundation
import Testing
import VEMBatch

@testable import VEMSlurm

@Suite struct GroupsTests {
    func state(_ squeue: String, _ sinfo: String) throws -> SlurmState {
        SlurmState(
            time: fixtureNow, jobs: try SlurmParser.jobs(fromSqueue: fixture(squeue)),
            nodes: try SlurmParser.nodes(fromSinfo: fixture(sinfo)))
    }

    @Test func demandOfTwoGroupsByPartition() throws {
        let snapshot = try SlurmGroups(fixtureMappings).snapshot(of: state("squeue-two-groups", "sinfo-two-groups"))
        #expect(snapshot.time == fixtureNow)
        #expect(snapshot.groups.map(\.group) == ["a", "b"])
        let a = try #require(snapshot[group: "a"])
        #expect(a.pendingJobs == 1 && a.pendingCPUs == 1 && a.pendingMemoryMB == 50)
        #expect(a.runningJobs == 1 && a.runningCPUs == 1)
        #expect(a.longestWait == fixtureNow - 1_795_941_791)
        #expect(a.nodes.map(\.name) == ["fa1"])
        #expect(a.nodes[0].state == .allocated && a.nodes[0].runningJobs == 1 && a.nodes[0].group == "a")
        let b = try #require(snapshot[group: "b"])
        #expect(b.pendingJobs == 1 && b.pendingMemoryMB == 200 && b.runningJobs == 1)
        #expect(b.longestWait == 60)
        #expect(b.nodes.map(\.name) == ["fb1"])
        #expect(b.usableCPUs == 1)
    }

    @Test func emptyClusterGivesEveryGroupZeroDemand() throws {
        let snapshot = try SlurmGroups(fixtureMappings).snapshot(of: state("squeue-empty", "sinfo-empty"))
        #expect(snapshot.groups == [GroupDemand(group: "a"), GroupDemand(group: "b")])
    }

    @Test func drainingThenDrained() throws {
        let groups = try SlurmGroups(fixtureMappings)
        let draining = groups.snapshot(of: try state("squeue-draining", "sinfo-draining"))
        #expect(draining[group: "a"]?.nodes.map(\.state) == [.draining])
        #expect(draining[group: "b"]?.nodes.map(\.state) == [.draining])
        #expect(draining[group: "b"]?.usableCPUs == 0)
        let drained = groups.snapshot(of: try state("squeue-empty", "sinfo-drained"))
        #expect(drained[group: "b"]?.nodes.map(\.state) == [.drained])
        #expect(drained[group: "a"]?.nodes.isEmpty == true)
    }

    @Test func aNodeThatStoppedRespondingIsDown() throws {
        // Captured right after `state=resume` then `state=drain`: slurmctld had not pinged the node yet.
        let snapshot = try SlurmGroups(fixtureMappings).snapshot(of: state("squeue-empty", "sinfo-not-responding"))
        #expect(snapshot[group: "b"]?.nodes.map(\.state) == [.down])
        #expect(snapshot[group: "b"]?.nodes.first?.name == "fb1")
    }

    @Test func featureAndAccountMappings() throws {
        // Group "atlas": jobs charged to account atlas asking for feature groupA; nodes with feature groupA.
        let groups = try SlurmGroups([
            GroupMapping(group: "atlas", feature: "groupA", account: "atlas"),
            GroupMapping(group: "cms", feature: "groupB"),
        ])
        let snapshot = groups.snapshot(of: try state("squeue-two-groups", "sinfo-two-groups"))
        #expect(snapshot[group: "atlas"]?.pendingJobs == 1)
        #expect(snapshot[group: "atlas"]?.runningJobs == 0)
        #expect(snapshot[group: "atlas"]?.nodes.map(\.name) == ["fa1"])
        #expect(snapshot[group: "cms"]?.pendingJobs == 0)
        #expect(snapshot[group: "cms"]?.nodes.map(\.name) == ["fb1"])
        #expect(snapshot[group: "cms"]?.nodes.first?.runningJobs == 1)
    }

    @Test func firstMatchingMappingWins() throws {
        let groups = try SlurmGroups([
            GroupMapping(group: "x", partition: "dynA", account: "atlas"),
            GroupMapping(group: "y", partition: "dynA"),
        ])
        let jobs = try SlurmParser.jobs(fromSqueue: fixture("squeue-two-groups"))
        #expect(jobs.map { groups.group(of: $0) } == ["y", nil, nil, "x"])
    }

    @Test func mappingsMustSelectSomething() {
        let error = #expect(throws: BatchError.self) { try SlurmGroups([GroupMapping(group: "g")]) }
        #expect(error?.code == .invalidMapping)
        #expect(throws: BatchError.self) {
            try SlurmGroups([GroupMapping(group: "g", partition: "p"), GroupMapping(group: "g", partition: "q")])
        }
    }

    @Test(arguments: [
        ("idle", [String](), 0, NodeState.idle), ("mixed", [], 1, .mixed), ("allocated", [], 1, .allocated),
        ("allocated", ["DRAIN"], 1, .draining), ("idle", ["DRAIN"], 0, .drained),
        ("idle", ["DRAIN", "COMPLETING"], 0, .draining),
        ("down", ["DRAIN"], 0, .down), ("idle", ["NOT_RESPONDING"], 0, .down), ("future", [], 0, .down),
        ("idle", ["FAIL"], 0, .drained), ("weird", [], 0, .down),
    ])
    func nodeStates(state: String, flags: [String], jobs: Int, expected: NodeState) {
        let node = SlurmNode(name: "n", state: state, stateFlags: flags, cpus: 2, allocatedCPUs: jobs)
        #expect(SlurmGroups.nodeState(node, runningJobs: jobs) == expected)
    }

    @Test func nodeReports() throws {
        let reports = try SlurmGroups(fixtureMappings).nodeReports(of: state("squeue-draining", "sinfo-draining"))
        #expect(reports.map(\.name) == ["fa1", "fb1"])
        #expect(reports.map(\.group) == ["a", "b"])
        #expect(reports[0].slurmState == "ALLOCATED+DRAIN+DYNAMIC_NORM")
        #expect(reports[0].dynamic && reports[0].state == .draining && reports[0].address == "10.77.201.2")
    }
}

@Suite struct JobMatchingTests {
    let groups: SlurmGroups

    init() throws {
        groups = try SlurmGroups([
            GroupMapping(group: "atlas", partition: "grid", feature: "atlas"),
            GroupMapping(group: "cms", partition: "grid", feature: "cms"),
            GroupMapping(group: "b", partition: "dynB", feature: "groupB"),
        ])
    }

    @Test func featureDecidesInASharedPartition() {
        #expect(groups.group(of: SlurmJob(id: 1, state: "PENDING", partitions: ["grid"], constraint: "cms")) == "cms")
        #expect(
            groups.group(of: SlurmJob(id: 2, state: "PENDING", partitions: ["grid"], constraint: "atlas")) == "atlas")
        #expect(groups.group(of: SlurmJob(id: 3, state: "PENDING", partitions: ["other"], constraint: "cms")) == nil)
    }

    @Test func jobsInANodesetPartitionNeedNotNameTheFeature() {
        #expect(groups.group(of: SlurmJob(id: 1, state: "PENDING", partitions: ["dynB"])) == "b")
        #expect(groups.group(of: SlurmJob(id: 2, state: "PENDING", partitions: ["dynB"], constraint: "ib")) == "b")
        #expect(groups.group(of: SlurmJob(id: 3, state: "PENDING", partitions: ["dynB"], constraint: "cms")) == nil)
    }
}
