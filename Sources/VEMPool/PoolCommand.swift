import Foundation
import VEMCore

/// A ``PoolOperation`` as a Command for a Client: which Client runs it, the command plugin's name and its
/// arguments. Hypervisor operations go to the Dom0 Client of the VM's host (`vm.create`, `vm.destroy`,
/// `vm.migrate`); batch operations go to the Client on the batch server (`slurm.register`, … or
/// `replay.register`, … for the replay batch).
public struct PoolCommand: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which Client runs the command.
    public enum Target: Sendable, Hashable, Codable {
        /// The Dom0 Client of this host.
        case host(String)
        /// The Client on the batch system's server.
        case batch
    }

    /// Which Client runs the command.
    public var target: Target
    /// The command plugin's name.
    public var name: String
    /// Its arguments: named for the hypervisor's `vm.*` commands, positional for the batch's.
    public var arguments: [NamedValue]

    /// `vm.create group=atlas vm=atlas-vm-1 … @host1`.
    public var description: String {
        let who =
            switch target {
            case .host(let h): h
            case .batch: "batch"
            }
        let words = arguments.map { argument in
            let text: String
            if case .string(let s) = argument.value { text = s.contains(" ") ? "\"\(s)\"" : s } else {
                text = argument.value.jsonText
            }
            return argument.name.isEmpty ? text : "\(argument.name)=\(text)"
        }
        return ([name] + words).joined(separator: " ") + " @" + who
    }
}

/// How operations become commands.
public struct PoolCommandMapping: Sendable, Hashable, Codable {
    /// The batch driver's plugin prefix: `slurm` (default) or `replay`.
    public var batchPrefix: String
    /// The libvirt URI by which each host is reached for a live migration; a host not listed is reached by
    /// ``migrationURITemplate``.
    public var migrationURIs: [String: String]
    /// The URI of a host not in ``migrationURIs``, `{host}` standing for its name (default
    /// ``defaultMigrationURI``).
    public var migrationURITemplate: String
    /// `qemu+ssh://{host}/system`.
    public static let defaultMigrationURI = "qemu+ssh://{host}/system"
    /// The address the migration's data goes to (`vm.migrate`'s `migrate_uri`, `tcp://host[:port]`); nil: the one
    /// libvirt picks (the destination's host name).
    public var migrationDataURI: String?

    /// Creates a mapping.
    public init(
        batchPrefix: String = "slurm", migrationURIs: [String: String] = [:],
        migrationURITemplate: String = Self.defaultMigrationURI
    ) {
        self.batchPrefix = batchPrefix
        self.migrationURIs = migrationURIs
        self.migrationURITemplate = migrationURITemplate
    }

    /// The command that carries out `operation`.
    ///
    /// - `createVM` → `vm.create(group: <g>, vm: <id>, vcpus: <n>, memory_mib: <m>, command: <op id>)` on the host;
    /// - `destroyVM` → `vm.destroy(vm: <id>)` on the host;
    /// - `migrateVM` → `vm.migrate(vm: <id>, to: <destination URI>)` on the source host;
    /// - `registerNode` → `<prefix>.register <node> <group> <cpus> <memory_mb>` on the batch Client;
    /// - `drainNode` → `<prefix>.drain <node> <reason>` (the reason one argument); `removeNode` →
    ///   `<prefix>.remove <node>`; `downNode` → `<prefix>.down <node> <reason>` (a lost VM's node).
    public func command(for operation: PoolOperation) -> PoolCommand {
        let vm = operation.vm
        switch operation.kind {
        case .createVM(let group, let host, _, let cpus, let memory):
            return PoolCommand(
                target: .host(host), name: "vm.create",
                arguments: [
                    NamedValue("group", .string(group)), NamedValue("vm", .string(vm)),
                    NamedValue("vcpus", .int(Int64(cpus))), NamedValue("memory_mib", .int(Int64(memory))),
                    NamedValue("command", .string(String(operation.id))),
                ])
        case .destroyVM(let host):
            return PoolCommand(target: .host(host), name: "vm.destroy", arguments: [NamedValue("vm", .string(vm))])
        case .migrateVM(let from, let to):
            let uri = migrationURIs[to] ?? migrationURITemplate.replacing("{host}", with: to)
            return PoolCommand(
                target: .host(from), name: "vm.migrate",
                arguments: [NamedValue("vm", .string(vm)), NamedValue("to", .string(uri))]
                    + (migrationDataURI.map { [NamedValue("migrate_uri", .string($0))] } ?? []))
        case .registerNode(let r):
            return PoolCommand(
                target: .batch, name: batchPrefix + ".register",
                arguments: [r.name, r.group, String(r.cpus), String(r.memoryMB)].map { NamedValue("", .string($0)) })
        case .drainNode(let reason):
            let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            return PoolCommand(
                target: .batch, name: batchPrefix + ".drain",
                arguments: [NamedValue("", .string(vm)), NamedValue("", .string(reason.isEmpty ? "vem" : reason))])
        case .removeNode:
            return PoolCommand(target: .batch, name: batchPrefix + ".remove", arguments: [NamedValue("", .string(vm))])
        case .downNode(let reason):
            let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            return PoolCommand(
                target: .batch, name: batchPrefix + ".down",
                arguments: [NamedValue("", .string(vm)), NamedValue("", .string(reason.isEmpty ? "vem" : reason))])
        }
    }
}
