import VEMConfig
import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// What a Client runs from: its `[client]` settings, the properties it collects and the commands it may run.
public struct ClientConfiguration: Hashable, Sendable {
    /// The `[client]` section (defaults when no file has one).
    public var settings: ClientSettings
    /// The properties, in file order.
    public var properties: [VEMConfig.PropertyDefinition]
    /// The command definitions, in file order.
    public var commands: [CommandDefinition]
    /// The `[group:…]` sections (a hypervisor Client builds each group's VMs from them), in file order.
    public var groups: [GroupDefinition]

    /// Creates a configuration.
    public init(
        settings: ClientSettings = ClientSettings(), properties: [VEMConfig.PropertyDefinition] = [],
        commands: [CommandDefinition] = [], groups: [GroupDefinition] = []
    ) {
        self.settings = settings
        self.properties = properties
        self.commands = commands
        self.groups = groups
    }

    /// The command definition of that name, if any.
    public func command(named name: String) -> CommandDefinition? { commands.first { $0.name == name } }
}

/// Reads a Client's configuration files (the ones given with `-c`, in order) through VEMConfig.
///
/// Every problem is reported the way `vem check-config` does: `file:line:col: error: …` with the line and a
/// caret, rendered by VEMCore's `DiagnosticRenderer`. Used at start-up and again by `reload`.
public struct ClientConfigurationLoader: Sendable {
    /// The files, in order.
    public var paths: [String]
    /// Reads a file; nil when it cannot be read. Default: the file system.
    public var readFile: @Sendable (String) -> [UInt8]?

    /// Creates a loader.
    /// - Parameters:
    ///   - paths: The configuration files, in order.
    ///   - readFile: How to read one (tests inject files).
    public init(
        paths: [String],
        readFile: @escaping @Sendable (String) -> [UInt8]? = { path in
            FileManager.default.contents(atPath: path).map { [UInt8]($0) }
        }
    ) {
        self.paths = paths
        self.readFile = readFile
    }

    /// What ``load()`` returns.
    public struct Loaded: Sendable {
        /// The configuration.
        public var configuration: ClientConfiguration
        /// Rendered warnings (empty when there are none).
        public var warnings: [String]
    }

    /// Reads and checks the files.
    /// - Returns: The configuration and rendered warnings.
    /// - Throws: ``ClientError`` `.configuration` whose message holds every rendered diagnostic.
    public func load() throws(ClientError) -> Loaded {
        guard !paths.isEmpty else {
            throw ClientError(.configuration, "error: no configuration file given (use -c agent.ini)")
        }
        var sources: [ConfigSource] = []
        var unreadable: [String] = []
        for path in paths {
            if let bytes = readFile(path) {
                sources.append(ConfigSource(name: path, bytes: bytes))
            } else {
                unreadable.append("\(path): error: cannot read file")
            }
        }
        let result = ConfigLoader.load(sources)
        var renderer = DiagnosticRenderer()
        renderer.addConfigSources(sources)
        guard let site = result.configuration, unreadable.isEmpty else {
            let errors = result.diagnostics.filter { $0.severity == .error }.count + unreadable.count
            let lines =
                unreadable + [renderer.render(result.diagnostics)] + [
                    "\(errors) error\(errors == 1 ? "" : "s"); the client does not start"
                ]
            throw ClientError(.configuration, lines.joined(separator: "\n"))
        }
        let warnings = result.diagnostics.filter { $0.severity == .warning }.map { renderer.render($0) }
        return Loaded(
            configuration: ClientConfiguration(
                settings: site.client ?? ClientSettings(), properties: site.properties, commands: site.commands,
                groups: site.groups),
            warnings: warnings)
    }
}
