import Foundation
import VEMBus
import VEMConfig

extension ClientService {
    /// The Client of `vem agent`, put together once from its configuration files: the token (`token` or
    /// `token_file`), the guest's credential (`credentials = smbios`: ``GuestCredentials``), the identity (file,
    /// kernel command line, SMBIOS), the plugins its role and settings call for
    /// (`slurm.*` for a batch Client with groups — ``ClientBatch``; `vm.*` and `hypervisor` with
    /// `hypervisor = <URI>` — ``ClientHypervisor``) and the bus `[client] bus` names (``ClientTransport``).
    /// - Parameters:
    ///   - paths: The configuration files, loaded in order.
    ///   - root: The directory standing for `/` when reading `/proc` and `/sys` (tests).
    ///   - warn: Receives the configuration's rendered warnings.
    /// - Throws: ``ClientError`` with rendered diagnostics when a file, a template or a setting cannot be used.
    public static func assemble(
        paths: [String], root: String = "/", warn: (String) -> Void
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
        let token = try ClientTransport.token(settings) { path in
            FileManager.default.contents(atPath: path).map { [UInt8]($0) }
        }
        let identity = try ClientIdentityResolver(root: root).resolve(
            settings, version: ClientService.version, incarnation: ClientIdentityResolver.newIncarnation())
        var options = ClientService.Configuration()
        options.root = root
        let slurm = try ClientBatch.slurmPlugins(loaded.configuration)
        options.extraProperties = slurm.properties
        options.extraCommands = slurm.commands
        if let built = try ClientHypervisor.make(loaded.configuration) {
            for warning in built.warnings { warn(warning) }
            options.hypervisor = built.host
        }
        return try ClientService(
            configuration: loaded.configuration, loader: loader, identity: identity, token: token, options: options)
    }
}
