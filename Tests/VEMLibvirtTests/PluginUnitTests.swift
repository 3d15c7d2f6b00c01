import Testing
import VEMAgent

@testable import VEMHypervisorPlugins
@testable import VEMLibvirt

@Suite struct PluginUnitTests {
    @Test func argumentsAreKeyValueWithKnownKeys() throws {
        let args = try CommandArguments(
            ["group=atlas", "vm=a=1", "p2p=yes"], allowed: ["group", "vm", "p2p"], command: "c")
        #expect(args["group"] == "atlas")
        #expect(args["vm"] == "a=1")
        #expect(try args.flag("p2p", "c"))
        let unknown = #expect(throws: AgentError.self) {
            try CommandArguments(["grup=atlas"], allowed: ["group", "vm"], command: "vm.create")
        }
        #expect(unknown?.message == "vm.create: unknown argument 'grup' (known: group, vm)")
        #expect(throws: AgentError.self) { try CommandArguments(["novalue"], allowed: [], command: "c") }
        #expect(throws: AgentError.self) { try CommandArguments(["a=1", "a=2"], allowed: ["a"], command: "c") }
        let bad = try CommandArguments(["vcpus=0", "timeout=-1"], allowed: ["vcpus", "timeout"], command: "c")
        #expect(throws: AgentError.self) { try bad.int("vcpus", "c") }
        #expect(throws: AgentError.self) { try bad.seconds("timeout", "c") }
        #expect(throws: AgentError.self) { try bad.required("missing", "c") }
    }

    @Test func summaryCountsCapacityAndGroups() {
        let node = NodeInfo(model: "x86_64", cpus: 8, mhz: 2400, memoryKiB: 16_000_000, freeMemoryKiB: 9_000_000)
        func dom(_ name: String, _ group: String?, _ state: DomainState, mem: UInt64, vcpus: Int) -> DomainInfo {
            DomainInfo(
                name: name, uuid: "u-\(name)", id: nil, state: state, memoryKiB: mem, vcpus: vcpus, persistent: true,
                instance: group.map { VEMInstance(group: $0, vmID: name) })
        }
        let domains = [
            dom("a1", "atlas", .running, mem: 1_000_000, vcpus: 2),
            dom("a2", "atlas", .shutoff, mem: 1_000_000, vcpus: 2),
            dom("c1", "cms", .paused, mem: 2_000_000, vcpus: 1), dom("other", nil, .running, mem: 500_000, vcpus: 1),
        ]
        let s = HypervisorPropertyPlugin.summary(uri: "test:///x", node: node, domains: domains)
        #expect(s["free_vcpus"] == .int(4))
        #expect(s["unallocated_memory_kib"] == .int(12_500_000))
        #expect(s["free_memory_kib"] == .int(9_000_000))
        #expect(s["domains_per_group"] == .object(["atlas": .int(2), "cms": .int(1)]))
        if case .array(let vem) = s["domains"] {
            #expect(vem.count == 3)
        } else {
            Issue.record("domains is not an array")
        }
        if case .array(let all) = s["all_domains"] { #expect(all.count == 4) } else { Issue.record("no all_domains") }
    }
}
