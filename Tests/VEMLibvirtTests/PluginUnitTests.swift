import Testing
import VEMAgent

@testable import VEMHypervisorPlugins
@testable import VEMLibvirt

@Suite struct PluginUnitTests {
    @Test func argumentsAreNamedAndTyped() throws {
        func request(_ options: [String: PropertyValue], _ words: [String] = []) -> CommandRequest {
            CommandRequest(sequence: 1, name: "c", arguments: words, options: options)
        }
        let args = try CommandArguments(request(["group": "atlas", "vm": "a=1", "p2p": true, "vcpus": 2]), command: "c")
        #expect(args["group"] == "atlas")
        #expect(args["vm"] == "a=1")  // a value is never split on '='
        #expect(try args.flag("p2p", "c"))
        #expect(try args.int("vcpus", "c") == 2)
        let words = #expect(throws: AgentError.self) {
            try CommandArguments(request([:], ["group=atlas"]), command: "vm.create")
        }
        #expect(words?.message.hasPrefix("vm.create: takes named arguments only") == true)
        let bad = try CommandArguments(
            request(["vcpus": 0, "shutdown_timeout": -1, "p2p": "maybe", "name": ["x"]]), command: "c")
        #expect(throws: AgentError.self) { try bad.int("vcpus", "c") }
        #expect(throws: AgentError.self) { try bad.seconds("shutdown_timeout", "c") }
        #expect(throws: AgentError.self) { try bad.flag("p2p", "c") }
        #expect(throws: AgentError.self) { try bad.required("missing", "c") }
        #expect(bad["name"] == nil)  // a list is not a name
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
