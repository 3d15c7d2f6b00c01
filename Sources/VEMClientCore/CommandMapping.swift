import VEMAgent
import VEMConfig
import VEMProtocol

/// How wire commands become the Runner's requests, and outcomes become wire results.
public enum CommandMapping {
    /// The Runner's request for a wire command, numbered `sequence` in the Runner's own order.
    ///
    /// Positional arguments become strings (`int`, `float` and `bool` in their usual text form, a list or dict
    /// as its JSON text: they are a program's command line). Named arguments go to the plugin as they arrived
    /// (``VEMAgent/CommandRequest/options``), except `timeout` (seconds), which bounds the command; for a
    /// defined command (`[command:X]`), a missing timeout is the definition's.
    /// - Returns: The request, or the reason to refuse the command.
    public static func request(
        for command: Command, sequence: UInt64, configuration: ClientConfiguration
    ) -> Result<CommandRequest, AgentError> {
        var arguments: [String] = []
        var options: [String: PropertyValue] = [:]
        var timeout: Duration?
        for argument in command.arguments {
            switch argument.name {
            case "":
                arguments.append(text(argument.value))
            case "timeout":
                guard let seconds = number(argument.value), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                    return .failure(AgentError(.badParameters, "'timeout' must be a number of seconds in (0, 86400]"))
                }
                timeout = .nanoseconds(Int64(seconds * 1e9))
            case let name:
                guard options.updateValue(argument.value, forKey: name) == nil else {
                    return .failure(
                        AgentError(.badParameters, "command '\(command.name)' has the argument '\(name)' twice"))
                }
            }
        }
        if timeout == nil, let definition = configuration.command(named: command.name) {
            timeout = definition.timeout
        }
        return .success(
            CommandRequest(
                sequence: sequence, name: command.name, arguments: arguments, options: options, timeout: timeout))
    }

    /// The wire result of an outcome. `timeout` becomes `failed` with an error that says so.
    public static func result(_ outcome: PluginOutcome, seq: UInt64) -> CommandResult {
        let status: CommandResult.Status
        var error = outcome.error
        switch outcome.status {
        case .ok: status = .ok
        case .failed: status = .failed
        case .refused: status = .refused
        case .timeout:
            status = .failed
            if let e = error, !e.hasPrefix("timeout") {
                error = "timeout: " + e
            } else if error == nil {
                error = "timeout"
            }
        }
        let (seconds, attoseconds) = outcome.duration.components
        let micros = max(0, seconds) &* 1_000_000 &+ max(0, attoseconds) / 1_000_000_000_000
        return CommandResult(
            seq: seq, status: status, exitCode: outcome.exitCode, output: outcome.output,
            outputTruncated: outcome.truncated, error: error, durationMicroseconds: UInt64(max(0, micros)))
    }

    /// A wire value as command-line text.
    static func text(_ value: WireValue) -> String {
        switch value {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .float(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .string(let s): s
        case .array, .object: value.jsonText
        }
    }

    static func number(_ value: WireValue) -> Double? {
        switch value {
        case .int(let i): Double(i)
        case .float(let d): d
        case .string(let s): Double(s)
        default: nil
        }
    }
}

/// A `[command:NAME]` definition as a command plugin: runs its plugin with the configured program and arguments.
///
/// The Manager sends it by name (`sender.send_command(c, "restart-batchd")`); the Client's `allow` must list the
/// name and, for `plugin = exec`, `exec_allow` the program (checked by the exec plugin). Arguments sent by the
/// Manager are refused: what runs is exactly what the Client's administrator wrote.
public struct DefinedCommandPlugin: CommandPlugin {
    /// The definition's name.
    public let name: String
    /// The definition.
    public let definition: CommandDefinition
    private let target: any CommandPlugin

    /// Creates the plugin.
    /// - Parameters:
    ///   - definition: The `[command:…]` section.
    ///   - target: The plugin it invokes (`exec`, …).
    public init(definition: CommandDefinition, target: any CommandPlugin) {
        name = definition.name
        self.definition = definition
        self.target = target
    }

    /// The target's.
    public var enforcesTimeout: Bool { target.enforcesTimeout }

    /// Runs the target with the definition's program and arguments.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        guard request.arguments.isEmpty, request.options.isEmpty else {
            return .refused("command '\(name)' is defined by this client's configuration and takes no arguments")
        }
        let arguments = (definition.program.map { [$0] } ?? []) + definition.args
        let inner = CommandRequest(
            sequence: request.sequence, name: target.name, arguments: arguments, timeout: context.timeout)
        return await target.run(inner, context: context)
    }
}
