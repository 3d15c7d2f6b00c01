import Foundation
import VEMAgent
import VEMHypervisorPlugins
import VEMLibvirt
import VEMPool

/// The hypervisors of the in-process demo on libvirt's `test:///` driver: one host description file per host
/// (its CPUs and memory), a ``VEMHypervisorPlugins/HypervisorHost`` each with a VM definition per group, and the
/// real `vm.create`, `vm.destroy`, `vm.migrate` command plugins on the Dom0 Clients. Test-driver domains run no
/// guest OS, so a stand-in guest (a DomU Client) is started when `vm.create` reports the domain running and
/// stopped when `vm.destroy` has removed it. The `hypervisor` property (``VEMHypervisorPlugins/HypervisorPropertyPlugin``)
/// reports the host's capacity and free room from libvirt (node info and the running domains).
public final class LibvirtTestHosts: Sendable {
    /// The hosts by name.
    public let hosts: [String: HypervisorHost]
    /// Each host's `test://` URI.
    public let uris: [String: String]
    /// The hosts' URI with `{host}` for the host's name (the site's `migration_uri`).
    public let uriTemplate: String
    let guests: StandInHosts.Guests

    /// Writes a host description per host into `directory` and opens nothing yet (connections open on use).
    /// - Throws: when a file cannot be written or the template does not parse.
    public init(
        names: [String], cpus: Int, memoryMiB: Int, groups: [PoolGroup], directory: URL,
        guests: StandInHosts.Guests
    ) throws {
        let template = try DomainTemplate(Self.template, origin: "vem-demo-template")
        var hosts: [String: HypervisorHost] = [:]
        var uris: [String: String] = [:]
        for name in names {
            let file = directory.appendingPathComponent("\(name).xml")
            try Self.nodeXML(cpus: cpus, memoryKiB: memoryMiB * 1024).write(to: file, atomically: true, encoding: .utf8)
            let uri = "test://" + file.path
            var configuration = HypervisorHost.Configuration(
                uri: uri,
                groups: Dictionary(
                    uniqueKeysWithValues: groups.map {
                        ($0.name, GroupVMDefinition(template: template, memoryMiB: $0.vmMemoryMiB, vcpus: $0.vmCPUs))
                    }))
            configuration.shutdownTimeout = .seconds(2)
            // The other hosts' test:/// URIs (the test driver then says it cannot migrate).
            configuration.migrationDestinations = Set(
                names.map { "test://" + directory.appendingPathComponent("\($0).xml").path })
            hosts[name] = HypervisorHost(configuration: configuration)
            uris[name] = uri
        }
        self.hosts = hosts
        self.uris = uris
        uriTemplate = "test://" + directory.appendingPathComponent("{host}.xml").path
        self.guests = guests
    }

    /// The command plugins of the Dom0 Client of `host`.
    public func plugins(for host: String) -> [any CommandPlugin] {
        guard let h = hosts[host] else { return [] }
        return [
            GuestStarting(inner: VMCreateCommand(host: h), host: host, guests: guests),
            GuestStarting(inner: VMDestroyCommand(host: h), host: host, guests: guests),
            VMMigrateCommand(host: h),
            VMListCommand(host: h),
        ]
    }

    /// The `hypervisor` property plugin of the Dom0 Client of `host`.
    public func property(for host: String) -> (any PropertyPlugin)? {
        hosts[host].map { HypervisorPropertyPlugin(host: $0) }
    }

    /// Closes every connection.
    public func close() async {
        for h in hosts.values { await h.close() }
    }

    static let template = """
        <domain type='test'>
          <name>{{name}}</name>
          <uuid>{{uuid}}</uuid>
          <memory unit='MiB'>{{memory_mib}}</memory>
          <vcpu>{{vcpus}}</vcpu>
          <os><type arch='x86_64'>hvm</type></os>
          <description>{{identity}}</description>
        </domain>
        """

    static func nodeXML(cpus: Int, memoryKiB: Int) -> String {
        """
        <node>
          <cpu><mhz>2400</mhz><model>x86_64</model><active>\(cpus)</active><nodes>1</nodes><sockets>1</sockets>\
        <cores>\(cpus)</cores><threads>1</threads></cpu>
          <memory>\(memoryKiB)</memory>
        </node>

        """
    }
}

/// `vm.create` / `vm.destroy` that start / stop the VM's stand-in guest once the hypervisor has done its part.
struct GuestStarting: CommandPlugin {
    let inner: any CommandPlugin
    let host: String
    let guests: StandInHosts.Guests
    var name: String { inner.name }
    var enforcesTimeout: Bool { inner.enforcesTimeout }
    var options: Set<String> { inner.options }

    func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        let outcome = await inner.run(request, context: context)
        guard outcome.status == .ok else { return outcome }
        guard case .string(let vm)? = request.options["vm"] else { return outcome }
        if name == "vm.create" {
            var group = ""
            if case .string(let g)? = request.options["group"] { group = g }
            guests.start(vm, group, host)
        } else {
            guests.stop(vm)
        }
        return outcome
    }
}
