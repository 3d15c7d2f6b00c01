import Foundation
import VEMConfig
import VEMCore
import VEMHypervisorPlugins
import VEMClientCore
import VEMLibvirt
import VEMProtocol

/// A dom0 Client's hypervisor: built from `[client] hypervisor = <libvirt URI>` and the `[group:…]` sections.
///
/// Each group whose `template` names a file (a path with a `/`, or ending in `.xml`; relative paths are taken
/// from the directory of the configuration file that defines the group) gets a VM definition: the file loaded
/// as a ``DomainTemplate``, the group's `vm_memory_mib`, `vm_vcpus`, `kernel`, `initrd` and `disk`. A template
/// file that cannot be read or has a bad placeholder stops the Client at start with `file:line:col` diagnostics.
/// A group whose template is a bare name (an image name meant for another kind of host) gets no definition:
/// `vm.create` for it is refused, and a warning says so.
public enum ClientHypervisor {
    /// What ``make(_:manager:readFile:)`` builds.
    public struct Built: Sendable {
        /// The host (nothing is opened until first use).
        public var host: HypervisorHost
        /// Rendered warnings.
        public var warnings: [String]
    }

    /// Builds the hypervisor host of a configuration.
    /// - Parameters:
    ///   - configuration: The Client's configuration.
    ///   - readFile: Reads a template file; nil when it cannot be read.
    /// - Returns: nil when `hypervisor` is not set.
    /// - Throws: ``ClientError`` `.configuration` with rendered diagnostics for unreadable or bad templates.
    public static func make(
        _ configuration: ClientConfiguration,
        readFile: (String) -> [UInt8]? = { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
    ) throws(ClientError) -> Built? {
        guard let uri = configuration.settings.hypervisor else { return nil }
        var groups: [String: GroupVMDefinition] = [:]
        var warnings: [String] = []
        var errors: [String] = []
        for group in configuration.groups {
            guard group.template.contains("/") || group.template.hasSuffix(".xml") else {
                warnings.append(
                    "\(group.location): warning: group '\(group.name)': template '\(group.template)' is not a file; "
                        + "vm.create for this group is refused on this host")
                continue
            }
            let path = resolve(group.template, against: group.location.file)
            guard let bytes = readFile(path) else {
                errors.append(
                    "\(group.location): error: group '\(group.name)': cannot read the template file '\(path)'")
                continue
            }
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                let template = try DomainTemplate(text, origin: path)
                groups[group.name] = GroupVMDefinition(
                    template: template, memoryMiB: group.vmMemoryMiB, vcpus: group.vmVCPUs, kernel: group.kernel,
                    initrd: group.initrd, disk: group.disk)
            } catch {
                errors.append(render(error, path: path, text: text))
            }
        }
        guard errors.isEmpty else {
            let n = errors.count
            throw ClientError(
                .configuration,
                (errors + ["\(n) error\(n == 1 ? "" : "s"); the client does not start"]).joined(separator: "\n"))
        }
        let manager = "\(configuration.settings.manager.host):\(configuration.settings.manager.port)"
        var hostConfiguration = HypervisorHost.Configuration(uri: uri, groups: groups, manager: manager)
        hostConfiguration.migrationDestinations = Set(configuration.settings.migrationDestinations)
        let host = HypervisorHost(configuration: hostConfiguration)
        return Built(host: host, warnings: warnings)
    }

    /// A path relative to the directory of the configuration file it was written in.
    static func resolve(_ path: String, against configFile: String) -> String {
        if path.hasPrefix("/") { return path }
        let dir = (configFile as NSString).deletingLastPathComponent
        return dir.isEmpty ? path : (dir as NSString).appendingPathComponent(path)
    }

    /// A template error as a `file:line:col: error: …` diagnostic with the line and a caret.
    static func render(_ error: any Error, path: String, text: String) -> String {
        let message = (error as? LibvirtError)?.message ?? "\(error)"
        // DomainTemplate's messages start with `origin:line:col: `.
        let rest = message.hasPrefix(path + ":") ? message.dropFirst(path.count + 1) : ""
        let parts = rest.split(separator: ":", maxSplits: 2)
        guard parts.count == 3, let line = Int(parts[0]), let column = Int(parts[1]) else {
            return "\(path): error: \(message)"
        }
        var renderer = DiagnosticRenderer()
        renderer.addFile(named: path, contents: text)
        let diagnostic = Diagnostic(
            .error, at: SourceLocation(file: path, line: line, column: column),
            String(parts[2].drop { $0 == " " }))
        return renderer.render(diagnostic)
    }

    /// A domain lifecycle event as the `vm.lifecycle` event the Client sends to the Manager.
    /// - Parameters:
    ///   - event: libvirt's event.
    ///   - instance: The domain's VEM identity, when known.
    ///   - timestampMilliseconds: When it was seen (Unix milliseconds).
    public static func message(
        for event: DomainEvent, instance: VEMInstance?, timestampMilliseconds: UInt64
    ) -> Event {
        var attributes: [NamedValue] = [
            NamedValue("domain", .string(event.domain)), NamedValue("uuid", .string(event.uuid)),
            NamedValue("event", .string(event.kind.rawValue)), NamedValue("detail", .string(event.detailName)),
        ]
        if let instance {
            attributes.append(NamedValue("group", .string(instance.group)))
            attributes.append(NamedValue("vm", .string(instance.vmID)))
        }
        return Event(kind: "vm.lifecycle", timestampMilliseconds: timestampMilliseconds, attributes: attributes)
    }
}
