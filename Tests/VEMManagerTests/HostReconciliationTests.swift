import Foundation
import Synchronization
import Testing
import VEMBus
import VEMManager
import VEMProtocol
import VEMTestKit

/// A Dom0 Client with a table of VEM domains: `vm.list` lists them, `vm.create` adds one, `vm.destroy` removes
/// one (or fails `not_found` when absent), as the hypervisor plugins do.
final class HypervisorFake: Sendable {
    /// What the handlers share.
    final class Storage: Sendable {
        let domains: Mutex<[String: String]>
        let executed = Mutex<[Command]>([])
        init(_ domains: [String: String]) { self.domains = Mutex(domains) }
    }

    let identity: ClientIdentity
    let client: InMemoryClient
    private let storage: Storage

    init(bus: InMemoryBus, name: String, domains: [String: String]) {
        identity = ClientIdentity(name: name, role: .dom0, host: name, version: "1.0.0", incarnation: 1)
        let storage = Storage(domains)
        self.storage = storage
        client = bus.makeClient(
            identity: identity, token: "",
            handlers: ClientHandlers(
                execute: { command in
                    storage.executed.withLock { $0.append(command) }
                    let words = Dictionary(
                        command.arguments.compactMap { a -> (String, String)? in
                            guard case .string(let s) = a.value, let eq = s.firstIndex(of: "=") else { return nil }
                            return (String(s[..<eq]), String(s[s.index(after: eq)...]))
                        }, uniquingKeysWith: { a, _ in a })
                    switch command.name {
                    case "vm.list":
                        let list = storage.domains.withLock { $0 }.sorted { $0.key < $1.key }.map {
                            #"{"vem":true,"vm":"\#($0.key)","group":"\#($0.value)","vcpus":2,"memory_kib":2097152}"#
                        }
                        return CommandResult(
                            seq: command.seq, status: .ok, output: "[" + list.joined(separator: ",") + "]")
                    case "vm.create":
                        storage.domains.withLock { $0[words["vm"] ?? "?"] = words["group"] ?? "?" }
                    case "vm.destroy":
                        let vm = words["vm"] ?? "?"
                        guard storage.domains.withLock({ $0.removeValue(forKey: vm) }) != nil else {
                            return CommandResult(
                                seq: command.seq, status: .failed,
                                error: "not_found: vm.destroy: no VEM domain with vm id '\(vm)' on this host")
                        }
                    default: break
                    }
                    return CommandResult(seq: command.seq, status: .ok)
                },
                properties: { request in
                    PropertyReport(
                        requestID: request.requestID,
                        readings: [
                            PropertyReading(
                                name: "hypervisor", timestampMilliseconds: 0,
                                value: .object([
                                    "cpus": .int(8), "memory_kib": .int(16_777_216), "free_vcpus": .int(8),
                                    "unallocated_memory_kib": .int(16_777_216),
                                ]))
                        ])
                }))
    }

    /// Commands executed, in order.
    var executedCommands: [Command] { storage.executed.withLock { $0 } }
}

extension HypervisorFake: RunnableFake {}

/// The inventory healed from what the hosts say (`vm.list` after each Dom0 join and every minute).
@Suite(.timeLimit(.minutes(2))) struct HostReconciliationTests {
    static let site = """
        [manager]
        default_triggers = no

        [group:B]
        share = 100
        vm_vcpus = 2
        vm_memory_mib = 2048

        [query]
        expr = { True }
        cmd = { sender.send_get_property() }
        ticks = 5
        """

    /// A Dom0 Client comes back on an emptied host and with VMs the Manager does not know: the VM it lost is
    /// gone (a decision), the unknown VM of a configured group adopted, the one of another group reported.
    @Test func aDom0JoinReconcilesTheInventoryWithItsDomains() async throws {
        let journal = try Journal(path: nil)
        try await journal.replaceInventory([
            InventoryRecord(name: "B-vm-1", group: "B", host: "h1", state: "booting", updatedAt: 10),
            InventoryRecord(name: "B-vm-2", group: "B", host: "h1", state: "booting", updatedAt: 10),
        ])
        try await Harness.run(site: try loadSite(Self.site), journal: journal) { h in
            #expect(h.recovery.vms == 2)
            let host = HypervisorFake(bus: h.bus, name: "h1", domains: ["B-vm-2": "B", "B-vm-7": "B", "X-vm-1": "X"])
            try await h.with([host]) {
                await h.step(by: 5)
                #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
                await h.step(by: 5)  // the pool's timer: h1 is listed, its list reconciled and journaled
                let decisions = try await h.journal.recentDecisions()
                #expect(Set(decisions.map(\.action)).isSuperset(of: ["lost", "adopt", "unknown"]))
                #expect(
                    decisions.contains { $0.action == "lost" && $0.vm == "B-vm-1" && $0.trigger == "vem.reconcile" })
                #expect(decisions.contains { $0.action == "adopt" && $0.vm == "B-vm-7" })
                #expect(decisions.contains { $0.action == "unknown" && $0.vm == "X-vm-1" && $0.group == "X" })
                let vms = Set(await h.manager.pool.reconciler?.inventory.map(\.id) ?? [])
                #expect(vms == ["B-vm-2", "B-vm-7"])
                let inventory = try await h.journal.inventory()
                #expect(Set(inventory.map(\.name)) == ["B-vm-2", "B-vm-7"])
                // Listed once per join, then every minute: not at every tick of the timer.
                await h.step(by: 10)
                #expect(host.executedCommands.filter { $0.name == "vm.list" }.count == 1)
            }
        }
    }

    /// A destroy that finds its VM already gone counts as done: the VM leaves the pool (it used to sit in
    /// `draining` for good).
    @Test func aDestroyOfAnAbsentVMCountsAsDone() async throws {
        let journal = try Journal(path: nil)
        try await journal.replaceInventory([
            InventoryRecord(name: "B-vm-4", group: "B", host: "h1", state: "booting", updatedAt: 10)
        ])
        let site =
            Self.site + """


                [unmake]
                expr = { len(manager.clients) == 1 }
                cmd = { vm.destroy("B-vm-4") }
                ticks = 5
                """
        try await Harness.run(site: try loadSite(site), journal: journal) { h in
            // The host no longer has B-vm-4: the destroy (at t=5, before the host is first listed) finds nothing.
            let host = HypervisorFake(bus: h.bus, name: "h1", domains: [:])
            try await h.with([host]) {
                await h.step(by: 5)
                let commands = try await h.journal.allCommands()
                #expect(commands.contains { $0.name == "vm.destroy" && $0.state == .failed }, "failed not_found")
                let decisions = try await h.journal.recentDecisions()
                #expect(decisions.contains { $0.vm == "B-vm-4" && $0.action == "lost" && $0.reason.contains("counts as done") })
                #expect(await h.manager.pool.reconciler?.inventory.isEmpty == true)
                #expect(await h.manager.pool.reconciler?.counters.failed == 0)
            }
        }
    }

    /// `[manager] boot_timeout`: a VM whose Client never joins is destroyed by the pool's timer, with a decision
    /// (the restart's adoption counts as its start).
    @Test func aVMWhoseClientNeverJoinsIsDestroyedByThePoolsTimer() async throws {
        let journal = try Journal(path: nil)
        try await journal.replaceInventory([
            InventoryRecord(name: "B-vm-1", group: "B", host: "h1", state: "booting", updatedAt: 10)
        ])
        let site = Self.site.replacingOccurrences(
            of: "default_triggers = no", with: "default_triggers = no\nboot_timeout = 100")
        try await Harness.run(site: try loadSite(site), journal: journal) { h in
            let host = HypervisorFake(bus: h.bus, name: "h1", domains: ["B-vm-1": "B"])
            try await h.with([host]) {
                for _ in 0..<12 { await h.step(by: 10) }
                let decision = try #require(
                    try await h.journal.recentDecisions().first { $0.vm == "B-vm-1" && $0.action == "destroy" })
                #expect(decision.reason.contains("did not join within 100 s"))
                #expect(decision.trigger == "vem.timer")
                #expect(host.executedCommands.contains { $0.name == "vm.destroy" })
                #expect(
                    try await h.journal.allCommands().contains { $0.name == "vm.destroy" && $0.trigger == "vem.timer" })
            }
        }
    }
}
