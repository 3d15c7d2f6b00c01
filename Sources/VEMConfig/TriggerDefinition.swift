import VEMCore

/// A Trigger: an event expression the Manager evaluates, and the command it runs when true.
///
/// The paper's example loads unchanged:
/// ```
/// [client_query]
/// expr = { len(manager.clients) != 0 }
/// cmd = { sender.send_get_property() }
/// ticks = 30
/// on_update_check = no
/// ```
/// A section is a trigger when it is written `[trigger:name]`, or `[name]` with an `expr` or `cmd` key.
/// `expr` and `cmd` are kept as ``SourceText`` (verbatim, with their location) for the rule language.
public struct TriggerDefinition: Hashable, Sendable, Codable {
    /// The trigger's name (used in logs and in `vem explain`).
    public var name: String
    /// The event expression, the text between the braces of `expr = { … }`. Required.
    public var expr: SourceText
    /// The event-handling command(s), the text between the braces of `cmd = { … }`. Required.
    public var cmd: SourceText
    /// Seconds between two periodic evaluations. Default: 0, meaning no periodic evaluation
    /// (the trigger then runs only on property updates, when ``onUpdateCheck`` is set).
    public var ticks: Int
    /// Also evaluate whenever a property update arrives. Default: no.
    public var onUpdateCheck: Bool
    /// A step budget for this trigger, overriding the Manager's `step_budget`. Default: nil.
    public var stepBudget: Int?
    /// Free text. Default: empty.
    public var description: String
    /// Where the section's header is.
    public var location: SourceLocation

    /// The keys a trigger section accepts.
    public static let keys = ["expr", "cmd", "ticks", "on_update_check", "step_budget", "description"]

    /// Creates a trigger.
    public init(
        name: String, expr: SourceText, cmd: SourceText, ticks: Int = 0, onUpdateCheck: Bool = false,
        stepBudget: Int? = nil, description: String = "", location: SourceLocation
    ) {
        self.name = name
        self.expr = expr
        self.cmd = cmd
        self.ticks = ticks
        self.onUpdateCheck = onUpdateCheck
        self.stepBudget = stepBudget
        self.description = description
        self.location = location
    }
}

extension TriggerDefinition {
    /// Decodes a trigger section; nil (with errors logged) when it is invalid.
    static func decode(_ section: IniSection, name: String, log: inout DiagnosticLog) -> TriggerDefinition? {
        var d = SectionDecoder(section, title: "trigger [\(section.name)]", keys: keys)
        let expr = d.expression("expr", required: true)
        let cmd = d.expression("cmd", required: true)
        let ticks = d.seconds("ticks", in: 0...(7 * 86_400)) ?? 0
        let onUpdate = d.boolean("on_update_check") ?? false
        let budget = d.integer("step_budget", in: 1...ManagerSettings.maximumStepBudget)
        let description = d.text("description") ?? ""
        d.finish()
        if !ValueParser.isName(name) {
            d.log.error(
                section.nameLocation,
                "trigger name \(quoted(name)) may only contain letters, digits, '_', '-' and '.'", length: name.count)
        }
        if !d.log.hasErrors, ticks == 0, !onUpdate {
            d.log.warning(
                section.location,
                "trigger [\(section.name)] never fires: set 'ticks' (seconds) or 'on_update_check = yes'",
                length: section.headerLength)
        }
        log.append(d.log)
        guard let expr, let cmd, !d.log.hasErrors else { return nil }
        return TriggerDefinition(
            name: name, expr: expr, cmd: cmd, ticks: ticks, onUpdateCheck: onUpdate, stepBudget: budget,
            description: description, location: section.location)
    }
}
