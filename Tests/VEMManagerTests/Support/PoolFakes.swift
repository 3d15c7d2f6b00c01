import Foundation
import Synchronization
import VEMBatch
import VEMBus
import VEMManager
import VEMProtocol
import VEMTestKit

/// A fake Client whose properties are wire values (JSON text, objects), recording the commands it runs.
final class WireFakeClient: Sendable {
    let identity: ClientIdentity
    let client: InMemoryClient
    final class Storage: Sendable {
        let executed = Mutex<[Command]>([])
    }

    private let storage = Storage()

    init(bus: InMemoryBus, identity: ClientIdentity, properties: [String: WireValue]) {
        self.identity = identity
        let storage = storage
        client = bus.makeClient(
            identity: identity, token: "",
            handlers: ClientHandlers(
                execute: { command in
                    storage.executed.withLock { $0.append(command) }
                    return CommandResult(seq: command.seq, status: .ok, exitCode: 0)
                },
                properties: { request in
                    let names = properties.keys.sorted().filter { request.names.isEmpty || request.names.contains($0) }
                    return PropertyReport(
                        requestID: request.requestID,
                        readings: names.map {
                            PropertyReading(name: $0, timestampMilliseconds: 0, value: properties[$0] ?? .null)
                        })
                }))
    }

    /// Commands executed, in order.
    var executedCommands: [Command] { storage.executed.withLock { $0 } }
}

/// The pool's Clients and site as the Manager's pool tests (rebalance, VM and operator actions, defects) set them
/// up: one place, so a change to the hypervisor property or the demand's form is made once.
enum PoolFakes {
    /// A site without the default triggers: `groups` (name, share; 2 vCPUs and 2 GiB per VM), a property poll
    /// every `query` seconds and `policy.rebalance()` every `rebalance` seconds (no rebalance trigger when nil).
    static func configuration(groups: [(name: String, share: Int)], query: Int = 30, rebalance: Int? = 60) -> String {
        let sections = groups.map { "[group:\($0.name)]\nshare = \($0.share)\nvm_vcpus = 2\nvm_memory_mib = 2048\n" }
        let rebalanceSection = rebalance.map {
            "\n\n[rebalance]\nexpr = { True }\ncmd = { policy.rebalance() }\nticks = \($0)"
        }
        return """
            [manager]
            default_triggers = no

            \(sections.joined(separator: "\n"))
            [query]
            expr = { True }
            cmd = { sender.send_get_property() }
            ticks = \(query)
            """ + (rebalanceSection ?? "")
    }

    /// A Dom0 Client of 8 vCPUs and 16 GiB reporting `freeVCPUs` and `freeMiB` of free room.
    static func dom0(_ bus: InMemoryBus, _ name: String, freeVCPUs: Int = 8, freeMiB: Int = 16_384) -> WireFakeClient {
        WireFakeClient(
            bus: bus,
            identity: ClientIdentity(name: name, role: .dom0, host: name, version: "1.0.0", incarnation: 1),
            properties: [
                "hypervisor": .object([
                    "cpus": .int(8), "memory_kib": .int(16_777_216), "free_vcpus": .int(Int64(freeVCPUs)),
                    "unallocated_memory_kib": .int(Int64(freeMiB * 1024)),
                    "free_memory_kib": .int(Int64(freeMiB * 1024)),
                ])
            ])
    }

    /// The DomU Client of `vm` (group `group`) on `host`, its connection from `address`.
    static func domU(
        _ bus: InMemoryBus, _ vm: String, host: String, group: String = "B", address: String? = nil
    ) -> WireFakeClient {
        WireFakeClient(
            bus: bus,
            identity: ClientIdentity(
                name: vm, role: .domU, host: host, group: group, vmID: vm, version: "1.0.0", incarnation: 1,
                address: address),
            properties: [:])
    }

    /// The batch Client `slurmctl`, reporting `demand` as `property`.
    static func batch(
        _ bus: InMemoryBus,
        demand: [GroupDemand] = [GroupDemand(group: "B", pendingJobs: 3, pendingCPUs: 6, longestWait: 120)],
        property: String = "slurm.demand"
    ) throws -> WireFakeClient {
        WireFakeClient(
            bus: bus,
            identity: ClientIdentity(
                name: "slurmctl", role: .batch, host: "slurmctl", version: "1.0.0", incarnation: 1),
            properties: [property: try WireValue(encoding: BatchSnapshot(time: 0, groups: demand))])
    }
}
