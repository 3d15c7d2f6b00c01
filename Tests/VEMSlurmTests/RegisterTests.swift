import Foundation
import Testing
import VEMAgent
import VEMBatch

@testable import VEMSlurm

/// `registerNode` against a fake node table that behaves as Slurm 22.05 does (see ``FakeNodeTable``).
@Suite struct RegisterTests {
    let registration = NodeRegistration(name: "b7", group: "b", cpus: 1, memoryMB: 1000)

    func batch(_ executor: FakeExecutor) throws -> SlurmBatch {
        SlurmBatch(
            groups: try SlurmGroups([
                GroupMapping(group: "a", partition: "dynA", feature: "groupA"),
                GroupMapping(group: "b", partition: "dynB", feature: "groupB"),
            ]), executor: executor, addressOf: { _ in "10.77.9.2" }, now: { fixtureNow })
    }

    func scontrolVerbs(_ executor: FakeExecutor) -> [String] {
        executor.commands.map { $0.arguments[0] == "-o" ? "show" : $0.arguments[0] }
    }

    @Test func aNewNameIsCreatedAndLookedUpBeforeAndAfter() async throws {
        let table = FakeNodeTable()
        let executor = try table.executor()
        let node = try await batch(executor).registerNode(registration, address: "10.77.9.2")
        #expect(scontrolVerbs(executor) == ["show", "create", "show"])
        #expect(
            executor.commands[1].arguments == [
                "create", "NodeName=b7", "NodeAddr=10.77.9.2", "NodeHostname=b7", "CPUs=1", "RealMemory=1000",
                "Feature=groupB", "State=FUTURE",
            ])
        #expect(
            node
                == RegisteredNode(
                    name: "b7", group: "b", feature: "groupB", address: "10.77.9.2", cpus: 1, memoryMB: 1000,
                    slurmState: "FUTURE+DYNAMIC_NORM", adopted: false))
    }

    @Test func registeringTwiceAdoptsTheNodeTheFirstCallCreated() async throws {
        let table = FakeNodeTable()
        let executor = try table.executor()
        var system: any BatchSystem = try batch(executor)
        try await system.register(registration)
        try await system.register(registration)
        #expect(scontrolVerbs(executor) == ["show", "create", "show", "show"])
        #expect(table.names == ["b7"])
        let again = try await batch(executor).registerNode(registration, address: "10.77.9.2")
        #expect(again.adopted)
        #expect(again.previousAddress == nil)
    }

    @Test func aNodeItsGuestsSlurmdRegisteredFirstIsAdoptedWithItsOwnSize() async throws {
        // `slurmd -Z --conf "CPUs=2 RealMemory=1900 Feature=groupB"` came first: IDLE, at the guest's address.
        let table = FakeNodeTable([
            "b7": .init(features: ["groupB"], address: "10.77.9.2", state: "IDLE+DYNAMIC_NORM", cpus: 2, memoryMB: 1900)
        ])
        let executor = try table.executor()
        let node = try await batch(executor).registerNode(registration, address: "10.77.9.2")
        #expect(scontrolVerbs(executor) == ["show"])
        #expect(node.adopted)
        #expect(node.slurmState == "IDLE+DYNAMIC_NORM")
        #expect(node.cpus == 2 && node.memoryMB == 1900)
    }

    @Test func anAdoptedNodeAtAnotherAddressIsMovedToTheGivenOne() async throws {
        let table = FakeNodeTable([
            "b7": .init(features: ["gpu", "groupB"], address: "10.77.8.2", state: "FUTURE+DYNAMIC_NORM")
        ])
        let executor = try table.executor()
        let node = try await batch(executor).registerNode(registration, address: "10.77.9.2")
        #expect(scontrolVerbs(executor) == ["show", "update"])
        #expect(executor.commands[1].arguments == ["update", "NodeName=b7", "NodeAddr=10.77.9.2"])
        #expect(node.adopted)
        #expect(node.previousAddress == "10.77.8.2")
        #expect(node.address == "10.77.9.2")
        #expect(table["b7"]?.address == "10.77.9.2")
    }

    @Test func aNodeOfAnotherGroupOrWithoutFeaturesOrFromSlurmConfIsRefused() async throws {
        for (existing, message) in [
            (
                FakeNodeTable.Node(features: ["groupA"], address: "10.77.9.2", state: "IDLE+DYNAMIC_NORM"),
                "Slurm already has a node named 'b7' with features 'groupA' (group 'a'), not group 'b''s feature "
                    + "'groupB'"
            ),
            (
                FakeNodeTable.Node(features: [], address: "10.77.9.2", state: "IDLE+DYNAMIC_NORM"),
                "Slurm already has a node named 'b7' with no features, not group 'b''s feature 'groupB'"
            ),
            (
                FakeNodeTable.Node(features: ["groupB"], address: "10.77.9.2", state: "IDLE"),
                "Slurm already has a node named 'b7' from its configuration (State=IDLE); VEM registers only dynamic "
                    + "nodes"
            ),
        ] {
            let table = FakeNodeTable(["b7": existing])
            let executor = try table.executor()
            var system: any BatchSystem = try batch(executor)
            let error = await #expect(throws: BatchError.self) { try await system.register(registration) }
            #expect(error?.code == .duplicateNode)
            #expect(error?.message == message)
            #expect(scontrolVerbs(executor) == ["show"], "nothing is created or changed")
            #expect(table["b7"]?.address == "10.77.9.2")
        }
    }

    @Test func aNodeThatAppearsBetweenTheLookUpAndTheCreateIsCheckedLikeAnyOther() async throws {
        // Another group's slurmd registers the name in between: `scontrol create` exits 0 and does nothing.
        let other = FakeNodeTable(beforeCreate: { nodes in
            nodes["b7"] = .init(features: ["groupA"], address: "10.77.5.2", state: "IDLE+DYNAMIC_NORM")
        })
        let refused = await #expect(throws: SlurmError.self) {
            try await batch(try other.executor()).registerNode(registration, address: "10.77.9.2")
        }
        #expect(refused?.code == .duplicateNode)
        #expect(other["b7"]?.features == ["groupA"])
        // The group's own slurmd, from another address: adopted and moved.
        let own = FakeNodeTable(beforeCreate: { nodes in
            nodes["b7"] = .init(features: ["groupB"], address: "10.77.5.2", state: "IDLE+DYNAMIC_NORM")
        })
        let executor = try own.executor()
        let node = try await batch(executor).registerNode(registration, address: "10.77.9.2")
        #expect(scontrolVerbs(executor) == ["show", "create", "show", "update"])
        #expect(node.adopted && node.previousAddress == "10.77.5.2")
        #expect(own["b7"]?.address == "10.77.9.2")
    }

    @Test func aCreateThatLeavesNoNodeOrUnreadableOutputIsAnError() async throws {
        let vanishing = try FakeExecutor.cluster { args in args[0] == "-o" ? notFound(args[4]) : SlurmOutput(status: 0)
        }
        let e1 = await #expect(throws: SlurmError.self) {
            try await batch(vanishing).registerNode(registration, address: "10.77.9.2")
        }
        #expect(e1?.code == .commandFailed)
        #expect(e1?.message.contains("Slurm does not show node 'b7'") == true)
        let garbled = try FakeExecutor.cluster { _ in SlurmOutput(status: 0, standardOutput: Data("hello".utf8)) }
        let e2 = await #expect(throws: SlurmError.self) {
            try await batch(garbled).registerNode(registration, address: "10.77.9.2")
        }
        #expect(e2?.code == .malformedOutput)
    }

    @Test func badArgumentsNeverReachSlurmEvenForAnExistingNode() async throws {
        let table = FakeNodeTable(["b7": .init(features: ["groupB"], address: "10.77.9.2", state: "IDLE+DYNAMIC_NORM")])
        let executor = try table.executor()
        let b = try batch(executor)
        for (r, address) in [
            (NodeRegistration(name: "b7", group: "b", cpus: 0, memoryMB: 1000), "10.77.9.2"),
            (registration, "10.77.9.2;reboot"), (NodeRegistration(name: "b7", group: "zz", cpus: 1), "10.77.9.2"),
        ] {
            await #expect(throws: SlurmError.self) { try await b.registerNode(r, address: address) }
        }
        #expect(executor.commands.isEmpty)
    }

    @Test func theShownLineIsReadByKey() throws {
        let line =
            "NodeName=n2 Arch=x86_64 CoresPerSocket=1  CPUAlloc=0 CPUEfctv=1 CPUTot=1 CPULoad=3.86 "
            + "AvailableFeatures=vemB ActiveFeatures=vemB Gres=(null) NodeAddr=10.81.2.2 NodeHostName=vm "
            + "Version=22.05.8 OS=Linux 6.18.44-fc-v857 #1 SMP PREEMPT_DYNAMIC @0  RealMemory=1000 AllocMem=0 "
            + "FreeMem=17142 Sockets=1 Boards=1 State=IDLE+DYNAMIC_NORM ThreadsPerCore=1 TmpDisk=0 Weight=1 "
            + "Owner=N/A MCS_label=N/A Partitions=dynB  BootTime=2026-11-29T08:23:21\n"
        let shown = try ShownNode(parsing: line)
        #expect(shown.name == "n2")
        #expect(shown.features == ["vemB"])
        #expect(shown.address == "10.81.2.2")
        #expect(shown.state == "IDLE+DYNAMIC_NORM")
        #expect(shown.isDynamic)
        #expect(shown.cpus == 1 && shown.memoryMB == 1000)
        #expect(throws: SlurmError.self) { try ShownNode(parsing: "Node n2 not found\n") }
    }
}
