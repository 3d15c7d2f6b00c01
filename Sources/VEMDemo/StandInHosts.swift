import Foundation
import Synchronization
import VEMAgent

/// The hypervisors of the in-process demo: hosts with a capacity, holding VMs, with the `vm.create`,
/// `vm.destroy` and `vm.migrate` command plugins and the `hypervisor` property plugin (the same fields as
/// ``VEMHypervisorPlugins/HypervisorPropertyPlugin``'s that the Manager reads) that a Dom0 Client runs. A VM
/// "boots" by its stand-in guest starting: the composition is told through ``Guests``.
///
/// Stand-ins, not libvirt: they keep the room accounting and the VM's life a hypervisor would, and nothing else.
public final class StandInHosts: Sendable {
    /// One VM on a host.
    struct VM: Sendable {
        var group: String
        var cpus: Int
        var memoryMiB: Int
    }

    /// One host.
    struct Host: Sendable {
        var cpus: Int
        var memoryMiB: Int
        var vms: [String: VM] = [:]
        var usedCPUs: Int { vms.values.reduce(0) { $0 + $1.cpus } }
        var usedMemory: Int { vms.values.reduce(0) { $0 + $1.memoryMiB } }
    }

    /// What starting and stopping a VM's guest means to the composition.
    public struct Guests: Sendable {
        /// A VM was started: boot its guest (its DomU Client).
        public var start: @Sendable (_ vm: String, _ group: String, _ host: String) -> Void
        /// A VM was destroyed: stop its guest.
        public var stop: @Sendable (_ vm: String) -> Void

        /// Creates the hooks.
        public init(
            start: @escaping @Sendable (String, String, String) -> Void, stop: @escaping @Sendable (String) -> Void
        ) {
            self.start = start
            self.stop = stop
        }
    }

    private let hosts: Mutex<[String: Host]>
    let guests: Guests

    /// `names` hosts, each of `cpus` vCPUs and `memoryMiB`.
    public init(names: [String], cpus: Int, memoryMiB: Int, guests: Guests) {
        hosts = Mutex(Dictionary(uniqueKeysWithValues: names.map { ($0, Host(cpus: cpus, memoryMiB: memoryMiB)) }))
        self.guests = guests
    }

    /// The URI by which `vm.migrate` reaches a host.
    public static func uri(of host: String) -> String { "standin:///\(host)" }

    /// The command plugins of the Dom0 Client of `host`.
    public func plugins(for host: String) -> [any CommandPlugin] {
        [
            StandInCommand(name: "vm.create", host: host, hosts: self),
            StandInCommand(name: "vm.destroy", host: host, hosts: self),
            StandInCommand(name: "vm.migrate", host: host, hosts: self),
        ]
    }

    /// The `hypervisor` property plugin of the Dom0 Client of `host`.
    public func property(for host: String) -> any PropertyPlugin { StandInHypervisorProperty(host: host, hosts: self) }

    /// The `hypervisor` property's value for `host`: `cpus`, `memory_kib`, `free_vcpus`,
    /// `unallocated_memory_kib` and `domains` (name and group of each VM).
    func hypervisorValue(of host: String) throws -> PropertyValue {
        try hosts.withLock { all in
            guard let h = all[host] else { throw AgentError(.notFound, "no host \(host)") }
            return .object([
                "cpus": .int(Int64(h.cpus)), "memory_kib": .int(Int64(h.memoryMiB) * 1024),
                "free_vcpus": .int(Int64(h.cpus - h.usedCPUs)),
                "unallocated_memory_kib": .int(Int64(h.memoryMiB - h.usedMemory) * 1024),
                "domains": .array(
                    h.vms.sorted { $0.key < $1.key }.map {
                        .object(["name": .string($0.key), "vm": .string($0.key), "group": .string($0.value.group)])
                    }),
            ])
        }
    }

    /// vCPUs held by VMs over all hosts.
    public var usedCPUs: Int { hosts.withLock { $0.values.reduce(0) { $0 + $1.usedCPUs } } }

    /// VMs on every host, by host.
    public var vmCount: [String: Int] { hosts.withLock { $0.mapValues(\.vms.count) } }

    func run(_ name: String, on host: String, _ args: [String: String]) throws -> String {
        switch name {
        case "vm.create":
            guard let vm = args["vm"], let group = args["group"], let cpus = Int(args["vcpus"] ?? ""),
                let memory = Int(args["memory_mib"] ?? "")
            else { throw AgentError(.badParameters, "usage: vm.create(group=…, vm=…, vcpus=…, memory_mib=…)") }
            try hosts.withLock { all in
                guard var h = all[host] else { throw AgentError(.notFound, "no host \(host)") }
                guard all.values.allSatisfy({ $0.vms[vm] == nil }) else {
                    throw AgentError(.badParameters, "a VM named \(vm) exists")
                }
                guard h.usedCPUs + cpus <= h.cpus, h.usedMemory + memory <= h.memoryMiB else {
                    throw AgentError(.programFailed, "not enough room on \(host) for \(cpus) vCPUs, \(memory) MiB")
                }
                h.vms[vm] = VM(group: group, cpus: cpus, memoryMiB: memory)
                all[host] = h
            }
            guests.start(vm, group, host)
            return #"{"name":"\#(vm)","state":"running"}"#
        case "vm.destroy":
            guard let vm = args["vm"] else { throw AgentError(.badParameters, "usage: vm.destroy(vm=…)") }
            try hosts.withLock { all in
                guard all[host]?.vms.removeValue(forKey: vm) != nil else {
                    throw AgentError(.notFound, "no VM \(vm) on \(host)")
                }
            }
            guests.stop(vm)
            return #"{"name":"\#(vm)","shutdown":"destroyed"}"#
        case "vm.migrate":
            guard let vm = args["vm"], let to = args["to"], to.hasPrefix("standin:///") else {
                throw AgentError(.badParameters, "usage: vm.migrate(vm=…, to=standin:///host)")
            }
            let destination = String(to.dropFirst("standin:///".count))
            try hosts.withLock { all in
                guard let record = all[host]?.vms[vm] else { throw AgentError(.notFound, "no VM \(vm) on \(host)") }
                guard var d = all[destination] else { throw AgentError(.notFound, "no host \(destination)") }
                guard d.usedCPUs + record.cpus <= d.cpus, d.usedMemory + record.memoryMiB <= d.memoryMiB else {
                    throw AgentError(.programFailed, "not enough room on \(destination)")
                }
                d.vms[vm] = record
                all[destination] = d
                all[host]?.vms[vm] = nil
            }
            return #"{"name":"\#(vm)","to":"\#(to)"}"#
        default:
            throw AgentError(.unknownPlugin, "no command \(name)")
        }
    }
}

/// The stand-in `hypervisor` property of one host.
struct StandInHypervisorProperty: PropertyPlugin {
    let name = "hypervisor"
    let host: String
    let hosts: StandInHosts

    func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        try hosts.hypervisorValue(of: host)
    }
}

/// One stand-in command plugin (`vm.create`, `vm.destroy`, `vm.migrate`) of one host.
struct StandInCommand: CommandPlugin {
    let name: String
    let host: String
    let hosts: StandInHosts

    /// The named arguments of the real `vm.*` plugins.
    var options: Set<String> { ["group", "vm", "name", "uuid", "memory_mib", "vcpus", "command", "to"] }

    func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        var args: [String: String] = [:]
        for (key, value) in request.options {
            switch value {
            case .string(let s): args[key] = s
            case .int(let i): args[key] = String(i)
            default: return .failed(AgentError(.badParameters, "\(name): '\(key)' must be a str or an int"))
            }
        }
        do {
            return PluginOutcome(status: .ok, output: try hosts.run(name, on: host, args))
        } catch let error as AgentError {
            return .failed(error)
        } catch {
            return .failed(AgentError(.programFailed, "\(name): \(error)"))
        }
    }
}
