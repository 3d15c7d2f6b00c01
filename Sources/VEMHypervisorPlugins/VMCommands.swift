import Foundation
import VEMAgent
import VEMCore
import VEMLibvirt

/// `vm.create(group=<g>, vm=<id>, [name=<domain>], [uuid=<uuid>], [memory_mib=<n>], [vcpus=<n>], [command=<id>],
/// [credential=<text>])` (named arguments):
/// renders the group's template, defines and starts the domain with VEM's metadata. The guest's credential from
/// the Manager goes into the domain as an SMBIOS OEM string (never into the output or a log). The domain name
/// defaults to the VM id, the UUID to a random one, the size to the group's, the command id to the
/// command's sequence number. Output: the new domain as JSON. Nothing is left behind when it fails.
public struct VMCreateCommand: CommandPlugin {
    /// `vm.create`.
    public let name = "vm.create"
    /// Its named arguments.
    public var options: Set<String> { ["group", "vm", "name", "uuid", "memory_mib", "vcpus", "command", "credential"] }
    private let host: HypervisorHost

    /// Creates the plugin for a host.
    public init(host: HypervisorHost) { self.host = host }

    /// Creates the VM.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        do {
            let args = try CommandArguments(request, command: name)
            let group = try args.required("group", name)
            let vm = try args.required("vm", name)
            let config = host.configuration
            guard let definition = config.groups[group] else {
                var message = "\(name): no VM definition for group '\(group)' on this host"
                if !config.groups.isEmpty {
                    message += " (known: \(config.groups.keys.sorted().joined(separator: ", ")))"
                }
                throw AgentError(.notFound, message)
            }
            let domainName = args["name"] ?? vm
            let instance = VEMInstance(group: group, vmID: vm, commandID: args["command"] ?? String(request.sequence))
            let extra = definition.extra.mapValues {
                $0.replacingOccurrences(of: "{vm}", with: vm).replacingOccurrences(of: "{name}", with: domainName)
            }
            let spec = DomainSpec(
                name: domainName, uuid: args["uuid"] ?? UUID().uuidString.lowercased(),
                memoryMiB: try args.int("memory_mib", name) ?? definition.memoryMiB,
                vcpus: try args.int("vcpus", name) ?? definition.vcpus, instance: instance, manager: config.manager,
                kernel: definition.kernel, initrd: definition.initrd, disk: definition.disk, extra: extra,
                credential: args["credential"])
            let info = try await host.connection().create(from: definition.template, spec: spec)
            return PluginOutcome(status: .ok, output: info.propertyValue.jsonText)
        } catch {
            return .failed(AgentError(error, doing: name))
        }
    }
}

/// `vm.destroy(name=<domain> | vm=<id>, [shutdown_timeout=<seconds>])`: shuts a VEM domain down (destroying it
/// when it does not stop within the shutdown timeout, default the host's) and undefines it. Domains without VEM's
/// metadata are refused. Output: `{"name":…,"shutdown":"graceful|destroyed|not_running"}`.
public struct VMDestroyCommand: CommandPlugin {
    /// `vm.destroy`.
    public let name = "vm.destroy"
    /// Its named arguments.
    public var options: Set<String> { ["name", "vm", "shutdown_timeout"] }
    private let host: HypervisorHost

    /// Creates the plugin for a host.
    public init(host: HypervisorHost) { self.host = host }

    /// Destroys the VM.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        do {
            let args = try CommandArguments(request, command: name)
            let timeout = try args.seconds("shutdown_timeout", name) ?? host.configuration.shutdownTimeout
            let connection = try await host.connection()
            let domain = try findVEMDomain(args, in: try await connection.domains(), command: name)
            let outcome = try await connection.remove(domain.name, timeout: timeout)
            let output = PropertyValue.object(["name": .string(domain.name), "shutdown": .string(outcome.rawValue)])
            return PluginOutcome(status: .ok, output: output.jsonText)
        } catch {
            return .failed(AgentError(error, doing: name))
        }
    }
}

/// `vm.migrate(name=<domain> | vm=<id>, to=<destination URI>, [migrate_uri=tcp://addr], [p2p=true])`: live-migrates
/// a running VEM domain, persistently, removing it from this host. Output: `{"name":…,"to":…}`. The migration is
/// aborted at the command's timeout (the guest then stays here) and the outcome is `timeout`.
///
/// Whatever the Manager says, the destination must be a plain `qemu+ssh://host/path` or `qemu+tls://host/path`
/// (``VEMCore/MigrationURI``: no query string, which could make libvirt run a program) or one of the host's
/// ``HypervisorHost/Configuration/migrationDestinations``; `migrate_uri` must be `tcp://host[:port]`.
public struct VMMigrateCommand: CommandPlugin {
    /// `vm.migrate`.
    public let name = "vm.migrate"
    /// Its named arguments.
    public var options: Set<String> { ["name", "vm", "to", "migrate_uri", "p2p"] }
    /// True: the migration job is aborted at the command's timeout by the plugin itself.
    public var enforcesTimeout: Bool { true }
    private let host: HypervisorHost

    /// Creates the plugin for a host.
    public init(host: HypervisorHost) { self.host = host }

    /// Migrates the VM.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        do {
            let args = try CommandArguments(request, command: name)
            let destination = try args.required("to", name)
            if !host.configuration.migrationDestinations.contains(destination),
                let problem = MigrationURI.problem(destination)
            {
                throw AgentError(.notAllowed, "\(name): destination refused: \(problem)")
            }
            var options = MigrationOptions()
            if let dataURI = args["migrate_uri"] {
                guard dataURI.hasPrefix("tcp://"),
                    MigrationURI.problem("qemu+tls://" + dataURI.dropFirst("tcp://".count) + "/") == nil
                else {
                    throw AgentError(.notAllowed, "\(name): migrate_uri must be tcp://host[:port]")
                }
                options.migrationURI = dataURI
            }
            options.peerToPeer = try args.flag("p2p", name)
            options.timeout = context.timeout
            let connection = try await host.connection()
            let domain = try findVEMDomain(args, in: try await connection.domains(), command: name)
            try await connection.migrate(domain.name, to: destination, options: options)
            let output = PropertyValue.object(["name": .string(domain.name), "to": .string(destination)])
            return PluginOutcome(status: .ok, output: output.jsonText)
        } catch {
            return .failed(AgentError(error, doing: name))
        }
    }
}

/// `vm.list([all=true])`: the VEM domains on this host (with `all`, every domain) as a JSON array, with
/// VEM's metadata read back from each domain.
public struct VMListCommand: CommandPlugin {
    /// `vm.list`.
    public let name = "vm.list"
    /// Its named arguments.
    public var options: Set<String> { ["all"] }
    private let host: HypervisorHost

    /// Creates the plugin for a host.
    public init(host: HypervisorHost) { self.host = host }

    /// Lists the VMs.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        do {
            let args = try CommandArguments(request, command: name)
            let all = try args.flag("all", name)
            let domains = try await host.connection().domains().filter { all || $0.instance != nil }
            return PluginOutcome(status: .ok, output: PropertyValue.array(domains.map(\.propertyValue)).jsonText)
        } catch {
            return .failed(AgentError(error, doing: name))
        }
    }
}
