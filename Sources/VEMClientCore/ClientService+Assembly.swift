import Logging
import VEMBus
import VEMConfig

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// What a Client can be beyond its core, for ``ClientService/assemble(paths:root:warn:hosting:)``: its buses and
/// the extensions its configuration calls for. ``hubOnly`` is a guest's (`vem-agent`); VEMClient's `full` adds
/// NATS and the hypervisor (`vem agent`).
public struct ClientHosting: Sendable {
    /// Makes the bus factory, given the Client's logger.
    public var busFactory: @Sendable (Logger) -> ClientService.BusFactory
    /// The extensions a configuration calls for; rendered warnings go to the second argument.
    public var extensions:
        @Sendable (ClientConfiguration, (String) -> Void) throws(ClientError) -> [any ClientExtension]

    /// A hosting from its parts.
    public init(
        busFactory: @escaping @Sendable (Logger) -> ClientService.BusFactory,
        extensions:
            @escaping @Sendable (ClientConfiguration, (String) -> Void) throws(ClientError) -> [any ClientExtension]
    ) {
        self.busFactory = busFactory
        self.extensions = extensions
    }

    /// The hub only, and no hypervisor: a configuration with `bus = nats` or `hypervisor = …` is refused at
    /// start (those need `vem agent`, which links libnats and libvirt).
    public static let hubOnly = ClientHosting(
        busFactory: { logger in HubTransport.factory(logger: logger) },
        extensions: { configuration, _ throws(ClientError) in
            if let uri = configuration.settings.hypervisor {
                throw ClientError(
                    .configuration, "error: hypervisor = \(uri) needs `vem agent`; this agent has no libvirt")
            }
            if configuration.settings.bus != .hub {
                let bus = configuration.settings.bus.rawValue
                throw ClientError(.configuration, "error: bus = \(bus) needs `vem agent`; this agent has the hub only")
            }
            return []
        })
}

extension ClientService {
    /// The Client of `vem agent`, put together once from its configuration files: the token (`token` or
    /// `token_file`), the guest's credential (`credentials = smbios`: ``GuestCredentials``), the identity (file,
    /// kernel command line, SMBIOS), the plugins its role and settings call for
    /// (`slurm.*` for a batch Client with groups — ``ClientBatch``; `vm.*` and `hypervisor` with
    /// `hypervisor = <URI>` — VEMClient's `ClientHypervisor`) and the bus `[client] bus` names, as far as
    /// `hosting` allows.
    /// - Parameters:
    ///   - paths: The configuration files, loaded in order.
    ///   - root: The directory standing for `/` when reading `/proc` and `/sys` (tests).
    ///   - warn: Receives the configuration's rendered warnings.
    ///   - hosting: The buses and extensions this executable has (``ClientHosting/hubOnly`` in `vem-agent`).
    /// - Throws: ``ClientError`` with rendered diagnostics when a file, a template or a setting cannot be used.
    public static func assemble(
        paths: [String], root: String = "/", warn: (String) -> Void, hosting: ClientHosting
    ) throws(ClientError) -> ClientService {
        let loader = ClientConfigurationLoader(paths: paths)
        var loaded = try loader.load()
        for warning in loaded.warnings { warn(warning) }
        if loaded.configuration.settings.credentials == .smbios {
            // A guest's identity from the Manager: the certificate names the VM, and so must the hello.
            let directory = loaded.configuration.settings.credentialsDirectory
            let installed = try GuestCredentials(root: root).install(into: directory)
            loaded.configuration.settings.tls = installed.tls
            loaded.configuration.settings.name = loaded.configuration.settings.name ?? installed.identity.name
            loaded.configuration.settings.group = loaded.configuration.settings.group ?? installed.identity.group
        }
        let settings = loaded.configuration.settings
        let token = try HubTransport.token(settings) { path in
            FileManager.default.contents(atPath: path).map { [UInt8]($0) }
        }
        let identity = try ClientIdentityResolver(root: root).resolve(
            settings, version: ClientService.version, incarnation: ClientIdentityResolver.newIncarnation())
        var options = ClientService.Configuration()
        options.root = root
        let slurm = try ClientBatch.slurmPlugins(loaded.configuration)
        options.extraProperties = slurm.properties
        options.extraCommands = slurm.commands
        options.extensions = try hosting.extensions(loaded.configuration, warn)
        let logger = Logger(label: "vem.agent")
        return try ClientService(
            configuration: loaded.configuration, loader: loader, identity: identity, token: token, options: options,
            logger: logger, busFactory: hosting.busFactory(logger))
    }
}
