/// The `reload` and `shutdown` commands: they do nothing themselves but return a directive that the
/// hosting agent acts on after reporting the outcome.
///
/// Arguments: none (extra arguments are ignored). Outcome: `ok`, output `reload requested` (or
/// `shutdown requested`), directive ``AgentDirective/reload`` (or ``AgentDirective/shutdown``).
public struct DirectiveCommandPlugin: CommandPlugin {
    /// The command's name.
    public let name: String
    /// The directive it returns.
    public let directive: AgentDirective

    /// Creates a plugin returning `directive` under `name`.
    public init(name: String, directive: AgentDirective) {
        self.name = name
        self.directive = directive
    }

    /// `reload`: re-read the configuration.
    public static let reload = DirectiveCommandPlugin(name: "reload", directive: .reload)
    /// `shutdown`: stop the agent gracefully.
    public static let shutdown = DirectiveCommandPlugin(name: "shutdown", directive: .shutdown)

    /// Returns the directive.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        PluginOutcome(status: .ok, output: "\(name) requested", directive: directive)
    }
}

extension PluginRegistry {
    /// Adds the built-in command plugins: `exec`, `get_property`, `reload`, `shutdown`.
    /// (Registered is not allowed: the ``Allowlist`` still decides what may run.)
    /// - Parameters:
    ///   - allowlist: The programs `exec` may start.
    ///   - reader: The Reader `get_property` refreshes.
    /// - Throws: ``AgentError`` `.duplicatePlugin` when one of the names is taken.
    public mutating func registerBuiltinCommands(allowlist: Allowlist, reader: Reader) throws {
        try registerCommand(ExecCommandPlugin(allowlist: allowlist))
        try registerCommand(GetPropertyCommandPlugin(reader: reader))
        try registerCommand(DirectiveCommandPlugin.reload)
        try registerCommand(DirectiveCommandPlugin.shutdown)
    }
}
