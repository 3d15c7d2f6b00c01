import VEMCore

/// A Command definition: a command plugin the Manager may ask a Client to run, by name.
///
/// ```
/// [command:restart-batchd]
/// plugin = exec
/// program = /usr/bin/systemctl
/// args = restart slurmd
/// timeout = 30
/// ```
/// Triggers send it with `sender.send_command(c, "restart-batchd")`. A Client runs it only when
/// its `[client] allow` lists the name (and, for `exec`, `exec_allow` lists the program).
public struct CommandDefinition: Hashable, Sendable, Codable {
    /// The command's name (after `command:`).
    public var name: String
    /// The command plugin (`exec` runs a program; other names are plugins built into the Client).
    public var plugin: String
    /// For `exec`: the absolute path of the program. Required for `exec`, not allowed otherwise.
    public var program: String?
    /// Arguments, split like a shell does (white space; `'…'` and `"…"` quote). Default: none.
    public var args: [String]
    /// How long the Client lets the command run before killing it. Default: 30 s.
    public var timeout: Duration
    /// Free text. Default: empty.
    public var description: String
    /// Where the section's header is.
    public var location: SourceLocation

    /// The default timeout.
    public static let defaultTimeout = Duration.seconds(30)

    /// The keys a command section accepts.
    public static let keys = ["plugin", "program", "args", "timeout", "description"]

    /// Creates a command definition.
    public init(
        name: String, plugin: String, program: String? = nil, args: [String] = [],
        timeout: Duration = CommandDefinition.defaultTimeout, description: String = "", location: SourceLocation
    ) {
        self.name = name
        self.plugin = plugin
        self.program = program
        self.args = args
        self.timeout = timeout
        self.description = description
        self.location = location
    }
}

extension CommandDefinition {
    /// Decodes a command section; nil (with errors logged) when it is invalid.
    static func decode(_ section: IniSection, name: String, log: inout DiagnosticLog) -> CommandDefinition? {
        var d = SectionDecoder(section, title: "command [\(section.name)]", keys: keys)
        let pluginValue = d.plain("plugin", required: true)
        let programValue = d.plain("program")
        var args: [String] = []
        if let value = d.plain("args") {
            if let words = ValueParser.words(value.text) {
                args = words
            } else {
                d.error(value, "unterminated quote in 'args'")
            }
        }
        let timeout = d.duration("timeout", minimumMilliseconds: 1) ?? defaultTimeout
        let description = d.text("description") ?? ""
        d.finish()
        if !ValueParser.isName(name) {
            d.log.error(
                section.nameLocation,
                "command name \(quoted(name)) may only contain letters, digits, '_', '-' and '.'", length: name.count)
        }
        var plugin: String?
        if let pluginValue {
            if ValueParser.isName(pluginValue.text) {
                plugin = pluginValue.text
            } else {
                d.error(pluginValue, "invalid plugin name \(quoted(pluginValue.text))")
            }
        }
        var program: String?
        if plugin == "exec" {
            if let programValue {
                if programValue.text.hasPrefix("/"), !programValue.text.contains("\n") {
                    program = programValue.text
                } else {
                    d.error(
                        programValue,
                        "'program' must be an absolute path (/usr/bin/…), not \(quoted(programValue.text))")
                }
            } else {
                d.log.error(
                    section.location, "command [\(section.name)] uses plugin 'exec' but has no 'program'",
                    length: section.headerLength)
            }
        } else if let programValue, plugin != nil {
            d.error(programValue, "'program' is only used by plugin 'exec'")
        }
        log.append(d.log)
        guard let plugin, !d.log.hasErrors else { return nil }
        return CommandDefinition(
            name: name, plugin: plugin, program: program, args: args, timeout: timeout, description: description,
            location: section.location)
    }
}
