import Testing
import VEMBatch
import VEMCore

@testable import VEMPool

@Suite struct PoolCommandTests {
    @Test func operationsBecomeCommandsForTheRightClient() {
        let mapping = PoolCommandMapping(batchPrefix: "replay", migrationURIs: ["h2": "test:///h2"])
        let create = mapping.command(
            for: PoolOperation(
                id: 7, vm: "atlas-vm-3",
                kind: .createVM(group: "atlas", host: "h1", template: "atlas", cpus: 2, memoryMiB: 4096)))
        #expect(create.target == .host("h1"))
        #expect(create.description == "vm.create group=atlas vm=atlas-vm-3 vcpus=2 memory_mib=4096 command=7 @h1")
        let migrate = mapping.command(
            for: PoolOperation(id: 8, vm: "atlas-vm-3", kind: .migrateVM(from: "h1", to: "h2")))
        #expect(migrate.target == .host("h1"))
        #expect(migrate.arguments == [NamedValue("vm", .string("atlas-vm-3")), NamedValue("to", .string("test:///h2"))])
        let elsewhere = PoolCommandMapping().command(
            for: PoolOperation(id: 9, vm: "x", kind: .migrateVM(from: "h1", to: "h9")))
        #expect(elsewhere.arguments == [NamedValue("vm", .string("x")), NamedValue("to", .string("qemu+ssh://h9/system"))])
        let destroy = mapping.command(for: PoolOperation(id: 10, vm: "atlas-vm-3", kind: .destroyVM(host: "h2")))
        #expect(destroy.description == "vm.destroy vm=atlas-vm-3 @h2")
        let register = mapping.command(
            for: PoolOperation(
                id: 11, vm: "atlas-vm-3",
                kind: .registerNode(NodeRegistration(name: "atlas-vm-3", group: "atlas", cpus: 2, memoryMB: 4096))))
        #expect(register.target == .batch)
        #expect(register.description == "replay.register atlas-vm-3 atlas 2 4096 @batch")
        let drain = PoolCommandMapping().command(
            for: PoolOperation(id: 12, vm: "atlas-vm-3", kind: .drainNode(reason: "atlas holds 3 VMs")))
        #expect(drain.description == "slurm.drain atlas-vm-3 \"atlas holds 3 VMs\" @batch")
        // The reason is one argument, not one per word.
        #expect(drain.arguments == [NamedValue("", .string("atlas-vm-3")), NamedValue("", .string("atlas holds 3 VMs"))])
        let remove = mapping.command(for: PoolOperation(id: 13, vm: "atlas-vm-3", kind: .removeNode))
        #expect(remove.description == "replay.remove atlas-vm-3 @batch")
    }
}
