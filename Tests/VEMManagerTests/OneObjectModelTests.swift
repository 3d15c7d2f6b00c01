import Foundation
import Testing
import VEMBatch
import VEMBus
import VEMManager
import VEMProtocol
import VEMRules
import VEMTestKit

/// One trigger object model: a table of 100 expressions gives the same value against a running Manager's view
/// (what TriggerWatch evaluates) as `vem eval --snapshot` gives against that Manager's `vem snapshot` document
/// (the `/v1/snapshot` body, read by `Snapshot(json:)` with `vem eval`'s globals).
@Suite(.timeLimit(.minutes(2))) struct OneObjectModelTests {
    static let configuration = """
        [manager]
        default_triggers = no

        [group:A]
        share = 60
        vm_vcpus = 2
        vm_memory_mib = 2048

        [group:B]
        share = 40
        vm_vcpus = 1
        vm_memory_mib = 1024

        [query]
        expr = { True }
        cmd = { sender.send_get_property() }
        ticks = 5

        [make]
        expr = { len(manager.vms) == 0 and len([c for c in manager.clients if c.role == "dom0"]) == 2 }
        cmd = { vm.create("A", host="h2") }
        ticks = 10
        """

    static let expressions: [String] = [
        // The lists.
        "len(manager.clients)", "len(manager.hosts)", "len(manager.vms)", "len(manager.groups)",
        "hasattr(manager, 'vms')", "type(manager.clients)", "type(manager.clients[0])", "repr(manager.clients[0])",
        "[c.name for c in manager.clients]", "[h.name for h in manager.hosts]", "[v.name for v in manager.vms]",
        "[g.name for g in manager.groups]", "[type(x) for x in manager.hosts + manager.vms + manager.groups]",
        // Clients: fields.
        "[c.role for c in manager.clients]", "[c.host for c in manager.clients]", "[c.group for c in manager.clients]",
        "[c.vm for c in manager.clients]", "[c.connected for c in manager.clients]",
        "[c.incarnation for c in manager.clients]", "[c.connected_since <= c.last_seen for c in manager.clients]",
        "[hasattr(c, 'properties') and hasattr(c, 'ages') for c in manager.clients]",
        "[hasattr(c, 'ram_free') for c in manager.clients]", "[getattr(c, 'load', -1) for c in manager.clients]",
        // Clients: properties.
        "[c.ram_free for c in manager.clients if c.role == 'domU']", "[c.load for c in manager.clients if c.role == 'domU']",
        "[c.properties for c in manager.clients]", "[sorted(c.properties.keys()) for c in manager.clients]",
        "[c.properties.get('ram_free') for c in manager.clients]", "[c.ages for c in manager.clients]",
        "[c.age('ram_free') for c in manager.clients]", "[c.age('nothing') for c in manager.clients]",
        "[type(c.age('load')) for c in manager.clients if c.role == 'domU']",
        "sum([c.ram_free for c in manager.clients if c.role == 'domU'])",
        "max(manager.clients, key=lambda c: getattr(c, 'ram_free', 0)).name",
        "min([c.load for c in manager.clients if c.role == 'domU'])",
        "[c.name for c in manager.clients if c.role == 'domU' and c.load > 1]",
        "len([c for c in manager.clients if getattr(c, 'ram_free', None) != None and c.ram_free < 1000000])",
        "{c.name: c.role for c in manager.clients}", "sorted({c.role: 1 for c in manager.clients}.keys())",
        // Nested values from plugins: dicts and lists as they came.
        "type([c for c in manager.clients if c.role == 'dom0'][0].hypervisor)",
        "[c for c in manager.clients if c.role == 'dom0'][0].hypervisor['cpus']",
        "sorted([c for c in manager.clients if c.role == 'dom0'][0].hypervisor.keys())",
        "[c for c in manager.clients if c.role == 'dom0'][1].hypervisor['free_vcpus']",
        "[c.hypervisor['memory_kib'] // 1024 for c in manager.clients if c.role == 'dom0']",
        "type([c for c in manager.clients if c.role == 'batch'][0].slurm_demand)",
        "[c for c in manager.clients if c.role == 'batch'][0].slurm_demand['groups'][0]['group']",
        "[g['pendingJobs'] for g in [c for c in manager.clients if c.role == 'batch'][0].slurm_demand['groups']]",
        "[c for c in manager.clients if c.role == 'batch'][0].slurm_demand['time']",
        "len([c for c in manager.clients if c.role == 'batch'][0].slurm_demand['groups'])",
        "[c.tags for c in manager.clients if c.role == 'domU']", "[len(c.tags) for c in manager.clients if c.role == 'domU']",
        "['gpu' in c.tags for c in manager.clients if c.role == 'domU']",
        "[c.meta['rack'] for c in manager.clients if c.role == 'domU']",
        "[c.meta.get('missing', 'none') for c in manager.clients if c.role == 'domU']",
        // Hosts.
        "[h.clients for h in manager.hosts]", "[h.vms for h in manager.hosts]", "[hasattr(h, 'vms') for h in manager.hosts]",
        "[repr(h) for h in manager.hosts]",
        // VMs: the pool's.
        "[v.stage for v in manager.vms]", "[v.group for v in manager.vms]", "[v.host for v in manager.vms]",
        "[v.busy for v in manager.vms]", "[v.cpus for v in manager.vms]", "[v.memory_mib for v in manager.vms]",
        "[v.registered for v in manager.vms]", "[v.client_connected for v in manager.vms]",
        "[v.idle_since for v in manager.vms]", "[v.migrating_to for v in manager.vms]",
        "[v.operation_pending for v in manager.vms]", "[hasattr(v, 'stage') and hasattr(v, 'busy') for v in manager.vms]",
        "[repr(v) for v in manager.vms]", "len([v for v in manager.vms if v.stage in ('creating', 'booting')])",
        // Groups.
        "[g.share for g in manager.groups]", "[g.vms for g in manager.groups]", "[g.min_vms for g in manager.groups]",
        "[g.max_vms for g in manager.groups]", "[g.vm_vcpus for g in manager.groups]",
        "[g.vm_memory_mib for g in manager.groups]", "[g.template for g in manager.groups]",
        "[g.demand for g in manager.groups]", "[g.demand_known for g in manager.groups]",
        "[g.pending_jobs for g in manager.groups]", "[g.running_jobs for g in manager.groups]",
        "[g.running_cpus for g in manager.groups]", "[g.longest_wait for g in manager.groups]",
        "[g.nodes for g in manager.groups]", "[g.partition for g in manager.groups]", "[g.feature for g in manager.groups]",
        "[hasattr(g, 'demand') for g in manager.groups]", "[g.name for g in manager.groups if g.demand > 0]",
        "sorted(manager.groups, key=lambda g: -g.share)[0].name",
        // Mixed and errors (the error text must agree too).
        "{g.name: len([v for v in manager.vms if v.group == g.name]) for g in manager.groups}",
        "[(c.name, c.age('ram_free') != None) for c in manager.clients]",
        "manager.clients[0].no_such_attribute", "manager.clients[0].age(1)", "manager.vms[0].nope",
        "manager.groups[5]", "manager.nothing", "str(manager.hosts[0].clients) + '/' + str(len(manager.hosts))",
        "all([c.connected for c in manager.clients])",
    ]

    static func dom0(_ bus: InMemoryBus, _ name: String, cpus: Int64) -> WireFakeClient {
        WireFakeClient(
            bus: bus, identity: ClientIdentity(name: name, role: .dom0, host: name, version: "1.0.0", incarnation: 1),
            properties: [
                "hypervisor": .object([
                    "cpus": .int(cpus), "memory_kib": .int(cpus * 2_097_152), "free_vcpus": .int(cpus),
                    "unallocated_memory_kib": .int(cpus * 2_097_152),
                ])
            ])
    }

    static func guest(_ bus: InMemoryBus, _ name: String, ram: Int64, load: Double, tags: [WireValue]) -> WireFakeClient {
        WireFakeClient(
            bus: bus,
            identity: ClientIdentity(
                name: name, role: .domU, host: "h1", group: "B", vmID: name, version: "1.0.0", incarnation: 1),
            properties: [
                "ram_free": .int(ram), "load": .float(load), "tags": .array(tags),
                "meta": .object(["rack": .string("r\(ram % 7)"), "slots": .array([.int(1), .null])]),
            ])
    }

    @Test func aHundredExpressionsGiveTheSameValuesInTheManagerAndInVemEval() async throws {
        #expect(Self.expressions.count == 100)
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            let snapshot = BatchSnapshot(
                time: 1_000, groups: [GroupDemand(group: "A", pendingJobs: 3, pendingCPUs: 6, longestWait: 120)])
            let clients = [
                Self.dom0(h.bus, "h1", cpus: 8), Self.dom0(h.bus, "h2", cpus: 16),
                Self.guest(h.bus, "B-vm-9", ram: 123_456, load: 0.75, tags: ["gpu", "big"]),
                Self.guest(h.bus, "B-vm-8", ram: 2_000_000, load: 1.5, tags: []),
                WireFakeClient(
                    bus: h.bus,
                    identity: ClientIdentity(
                        name: "slurmctl", role: .batch, host: "slurmctl", version: "1.0.0", incarnation: 1),
                    properties: ["slurm_demand": try WireValue(encoding: snapshot)]),
            ]
            try await h.with(clients) {
                await h.step(by: 5)
                #expect(h.snapshot.clients.values.filter { !$0.properties.isEmpty }.count == 5)
                h.clock.advance(by: 1)  // ages are not all 0
                await h.step(by: 4)
                #expect(h.manager.pool.currentVMs().count == 1)
                let api = OperatorAPI(manager: h.manager)
                let view = api.worldView()
                let document = await api.get("/v1/snapshot").body
                let eval = try Snapshot(json: document)
                var differences: [String] = []
                var values: [String: String] = [:]
                for expression in Self.expressions {
                    let manager = Self.evaluate(expression, globals: ["manager": .object(view.managerObject)])
                    let evaluated = Self.evaluate(expression, globals: eval.evalGlobals(recorder: CallRecorder()))
                    if manager != evaluated { differences.append("\(expression): \(manager) ≠ \(evaluated)") }
                    values[expression] = manager
                }
                #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
                // The table says something: only the five expressions meant to fail do, and the state is the one set up.
                let errors = values.filter { $0.value.hasPrefix("error:") }.keys.sorted()
                #expect(errors.count == 5, "\(errors.map { "\($0) → \(values[$0] ?? "")" })")
                #expect(values["len(manager.clients)"] == "5" && values["len(manager.vms)"] == "1")
                #expect(values["[v.host for v in manager.vms]"] == #"["h2"]"#)
                #expect(values["[c.tags for c in manager.clients if c.role == 'domU']"] == #"[[],["gpu","big"]]"#)
                #expect(values["[c.age('ram_free') for c in manager.clients]"]?.contains("null") == true)
            }
        }
    }

    /// The value as JSON text (what `vem eval --json` prints), or the error's message.
    static func evaluate(_ expression: String, globals: [String: Value]) -> String {
        do {
            return try VEMRules.evaluate(expression, globals: globals).json.jsonText
        } catch {
            return "error: \(error)"
        }
    }
}
