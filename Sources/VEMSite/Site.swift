import VEMConfig
import VEMCore
import VEMRules

/// A trigger whose `expr` and `cmd` have been compiled by the rule language.
public struct CompiledTrigger: Sendable {
    /// The trigger as configured.
    public var definition: TriggerDefinition
    /// The compiled `expr` (one expression).
    public var condition: CompiledProgram
    /// The compiled `cmd` (one or more expressions, run in order).
    public var action: CompiledProgram
    /// The limits this trigger runs under (its own `step_budget`, else the Manager's).
    public var limits: Limits

    /// The trigger's name.
    public var name: String { definition.name }
}

/// A site: its configuration, loaded from INI files, with every trigger compiled.
///
/// This is what `vem check-config` checks and what the Manager runs: a ``Site`` exists only
/// when every file loaded without errors and every trigger compiled.
public struct Site: Sendable {
    /// The typed configuration.
    public var configuration: SiteConfiguration
    /// The compiled triggers, in configuration order.
    public var triggers: [CompiledTrigger]

    /// The global names a trigger may use: `manager` (the state), and the actions `sender`, `log`, `vm`
    /// (`create`, `destroy`, `drain`, `migrate`) and `policy` (`rebalance`), DESIGN.md §5.
    public static let triggerGlobals: Set<String> = ["manager", "sender", "log", "vm", "policy"]

    /// The result of loading a site: the site (nil when there is any error) and every diagnostic.
    public struct LoadResult: Sendable {
        /// The site, or nil when any file or trigger has an error.
        public var site: Site?
        /// Every diagnostic of every file, configuration and rule language alike, in file order.
        public var diagnostics: [Diagnostic]
    }

    /// Loads configuration sources and compiles every trigger.
    ///
    /// - Parameters:
    ///   - sources: The INI files, in order.
    ///   - globals: The global names triggers may use (default ``triggerGlobals``).
    /// - Returns: The site, or nil with the diagnostics that explain why.
    public static func load(_ sources: [ConfigSource], globals: Set<String> = triggerGlobals) -> LoadResult {
        let loaded = ConfigLoader.load(sources)
        var diagnostics = loaded.diagnostics
        // Triggers are compiled even when the configuration has errors, so that one run reports all.
        var configuration = loaded.partialConfiguration
        configuration.triggers += DefaultTriggers.definitions(for: configuration)
        var triggers: [CompiledTrigger] = []
        var failed = loaded.configuration == nil
        for definition in configuration.triggers {
            var limits = Limits()
            if let budget = definition.stepBudget ?? configuration.manager?.stepBudget { limits.maxSteps = budget }
            let condition = CompiledProgram.compile(
                definition.expr, kind: .expression, knownGlobals: globals, limits: limits)
            let action = CompiledProgram.compile(
                definition.cmd, kind: .statements, knownGlobals: globals, limits: limits)
            diagnostics += condition.diagnostics + action.diagnostics
            guard let c = condition.program, let a = action.program else {
                failed = true
                continue
            }
            triggers.append(CompiledTrigger(definition: definition, condition: c, action: a, limits: limits))
        }
        let site = failed ? nil : Site(configuration: configuration, triggers: triggers)
        return LoadResult(site: site, diagnostics: diagnostics.sortedByLocation(fileOrder: loaded.fileOrder))
    }
}
