/// Everything one or more configuration files define, merged and checked.
///
/// A site may split its configuration over several files (properties in one, triggers in another);
/// ``ConfigLoader/load(_:)`` merges them. Definitions keep their file order, files in the order given.
public struct SiteConfiguration: Hashable, Sendable, Codable {
    /// The `[manager]` section, or nil when no file has one (use `ManagerSettings()` for defaults).
    public var manager: ManagerSettings?
    /// The `[client]` section, or nil when no file has one (use `ClientSettings()` for defaults).
    public var client: ClientSettings?
    /// The Properties, in file order.
    public var properties: [PropertyDefinition]
    /// The Triggers, in file order.
    public var triggers: [TriggerDefinition]
    /// The Command definitions, in file order.
    public var commands: [CommandDefinition]
    /// The groups, in file order.
    public var groups: [GroupDefinition]

    /// Creates a configuration.
    public init(
        manager: ManagerSettings? = nil, client: ClientSettings? = nil, properties: [PropertyDefinition] = [],
        triggers: [TriggerDefinition] = [], commands: [CommandDefinition] = [], groups: [GroupDefinition] = []
    ) {
        self.manager = manager
        self.client = client
        self.properties = properties
        self.triggers = triggers
        self.commands = commands
        self.groups = groups
    }

    /// The property with a name, if defined.
    public func property(named name: String) -> PropertyDefinition? { properties.first { $0.name == name } }

    /// The trigger with a name, if defined.
    public func trigger(named name: String) -> TriggerDefinition? { triggers.first { $0.name == name } }

    /// The command definition with a name, if defined.
    public func command(named name: String) -> CommandDefinition? { commands.first { $0.name == name } }

    /// The group with a name, if defined.
    public func group(named name: String) -> GroupDefinition? { groups.first { $0.name == name } }

    /// The sum of all groups' shares, in percent (at most 100 in a loaded configuration).
    public var totalShare: Int { groups.reduce(0) { $0 + $1.share } }
}
