import VEMAgent
import VEMConfig
import VEMCore

/// Everything built from one loaded configuration: the Readers, the Runner and its allowlist. `reload` builds
/// a new generation and swaps it in between two commands.
struct ClientGeneration: Sendable {
    let configuration: ClientConfiguration
    let readers: PropertyReaders
    let runner: Runner
    let allowlist: Allowlist

    /// The allowlist of a configuration: `allow` plus `get_property` (it only reads configured properties),
    /// and `exec_allow` for programs.
    static func allowlist(_ settings: ClientSettings) -> Allowlist {
        Allowlist(commands: Set(settings.allow).union(["get_property"]), programs: Set(settings.execAllow))
    }

    init(
        configuration: ClientConfiguration, propertyRegistry: PluginRegistry, extraCommands: [any CommandPlugin],
        clock: any Timeline, options: ClientService.Configuration, seed: UInt64, firstSequence: UInt64
    ) throws(ClientError) {
        self.configuration = configuration
        readers = try PropertyReaders(
            properties: configuration.properties, registry: propertyRegistry, clock: clock,
            timeout: options.propertyTimeout, jitter: options.jitter, seed: seed)
        allowlist = Self.allowlist(configuration.settings)
        var registry = propertyRegistry
        do {
            try registry.registerCommand(ExecCommandPlugin(allowlist: allowlist, killGrace: options.killGrace))
            try registry.registerCommand(ClientGetPropertyPlugin(readers: readers))
            try registry.registerCommand(DirectiveCommandPlugin.reload)
            try registry.registerCommand(DirectiveCommandPlugin.shutdown)
            for plugin in extraCommands { try registry.registerCommand(plugin) }
            let plugins = registry
            for definition in configuration.commands {
                let target: any CommandPlugin =
                    plugins.commandPlugin(named: definition.plugin)
                    ?? RefusingCommandPlugin(
                        name: definition.plugin, reason: "no command plugin named '\(definition.plugin)' on this client"
                    )
                try registry.registerCommand(DefinedCommandPlugin(definition: definition, target: target))
            }
        } catch {
            throw ClientError(.setup, "error: cannot set up the runner: \(error)")
        }
        var runnerConfiguration = options.runner
        runnerConfiguration.firstSequence = firstSequence
        runner = Runner(registry: registry, allowlist: allowlist, clock: clock, configuration: runnerConfiguration)
    }
}

/// A plugin that refuses every request (a `[command:X]` naming a plugin this Client does not have).
struct RefusingCommandPlugin: CommandPlugin {
    let name: String
    let reason: String
    func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        .refused(reason)
    }
}
