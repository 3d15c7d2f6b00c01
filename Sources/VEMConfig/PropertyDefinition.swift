import VEMCore

/// When a Client sends a property's value to the Manager without being asked.
public enum PushPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// Only when the Manager asks (`get_property`): the paper's behaviour.
    case never
    /// After a collection whose value differs from the previous one (the first value counts as a change).
    case onChange = "on_change"
    /// After every collection.
    case always
}

/// A Property: something a Client measures with a property plugin and reports to the Manager.
///
/// The paper's example loads unchanged:
/// ```
/// [ram_free]
/// command = ram
/// parameters = MemFree
/// return_type = int
/// ticks = 60
/// ```
/// A section is a property when it is written `[property:name]`, or `[name]` with a `command` key.
public struct PropertyDefinition: Hashable, Sendable, Codable {
    /// The property's name; triggers read it as an attribute (`c.ram_free`), so it is an identifier.
    public var name: String
    /// The property plugin to run (`ram`, `load`, `exec`, …). Required.
    public var command: String
    /// The plugin's parameters, verbatim (`MemFree`). Default: empty.
    public var parameters: String
    /// The type of the value. Default: ``ReturnType/str``.
    public var returnType: ReturnType
    /// Seconds between two collections (the paper's ticks). Default: 60. 0: only when the Manager asks.
    public var ticks: Int
    /// Free text for `vem props`. Default: empty.
    public var description: String
    /// When the Client pushes the value unasked (`push = never | on_change | always`). Default: ``PushPolicy/never``.
    public var push: PushPolicy
    /// Where the section's header is.
    public var location: SourceLocation

    /// The default collection interval, in seconds.
    public static let defaultTicks = 60

    /// The keys a property section accepts.
    public static let keys = ["command", "parameters", "return_type", "ticks", "description", "push"]

    /// Creates a property.
    public init(
        name: String, command: String, parameters: String = "", returnType: ReturnType = .str,
        ticks: Int = PropertyDefinition.defaultTicks, description: String = "", push: PushPolicy = .never,
        location: SourceLocation
    ) {
        self.name = name
        self.command = command
        self.parameters = parameters
        self.returnType = returnType
        self.ticks = ticks
        self.description = description
        self.push = push
        self.location = location
    }
}

extension PropertyDefinition {
    /// Decodes a property section; nil (with errors logged) when it is invalid.
    static func decode(_ section: IniSection, name: String, log: inout DiagnosticLog) -> PropertyDefinition? {
        var d = SectionDecoder(section, title: "property [\(section.name)]", keys: keys)
        let command = d.string("command", required: true)
        let parameters = d.text("parameters") ?? ""
        let returnType = d.choice("return_type", as: ReturnType.self) ?? .str
        let ticks = d.seconds("ticks", in: 0...(7 * 86_400)) ?? defaultTicks
        let description = d.text("description") ?? ""
        let push = d.choice("push", as: PushPolicy.self) ?? .never
        d.finish()
        if !ValueParser.isIdentifier(name) {
            d.log.error(
                section.nameLocation,
                "property name \(quoted(name)) is not an identifier: triggers read it as c.\(name), so use "
                    + "letters, digits and '_' only", length: name.count)
        }
        log.append(d.log)
        guard let command, !d.log.hasErrors else { return nil }
        return PropertyDefinition(
            name: name, command: command, parameters: parameters, returnType: returnType, ticks: ticks,
            description: description, push: push, location: section.location)
    }
}
