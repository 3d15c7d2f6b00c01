/// A command the Manager asked this Client to run.
public struct CommandRequest: Hashable, Sendable, Codable {
    /// The command's sequence number in the Manager's stream to this Client (1, 2, 3, …).
    public var sequence: UInt64
    /// The command plugin to run (`exec`, `get_property`, `reload`, `shutdown`, `hypervisor.create`).
    public var name: String
    /// The plugin's positional arguments (for `exec`: the program's absolute path, then its arguments).
    public var arguments: [String]
    /// The named arguments, as the Manager sent them (`vm.create(group: "atlas", vm: "atlas-3", vcpus: 2)`).
    public var options: [String: PropertyValue]
    /// How long the command may run; `nil` uses the Runner's default.
    public var timeout: Duration?

    /// Creates a request.
    public init(
        sequence: UInt64, name: String, arguments: [String] = [], options: [String: PropertyValue] = [:],
        timeout: Duration? = nil
    ) {
        self.sequence = sequence
        self.name = name
        self.arguments = arguments
        self.options = options
        self.timeout = timeout
    }
}

/// Something the hosting agent must do after a command, beyond reporting its outcome.
public enum AgentDirective: Hashable, Sendable, Codable {
    /// Re-read the configuration (the `reload` command).
    case reload
    /// Stop the agent gracefully (the `shutdown` command).
    case shutdown
    /// Publish these freshly read properties (the `get_property` command).
    case publish([PropertySample])
}

/// How a command plugin's run ended, with what the hosting agent must do next; the Client turns it into the wire
/// `CommandResult` (VEMProtocol), which the Manager sees as a `CommandOutcome` (VEMBus).
public struct PluginOutcome: Hashable, Sendable, Codable {
    /// The broad result.
    public enum Status: String, Hashable, Sendable, Codable {
        /// The command ran and succeeded.
        case ok
        /// The command ran (or tried to) and failed.
        case failed
        /// The command was not run: not allowlisted, unknown, or a stale duplicate.
        case refused
        /// The command did not finish within its timeout and was stopped.
        case timeout
    }

    /// The default cap on `output`: 64 KiB.
    public static let defaultOutputLimit = 64 * 1024

    /// The broad result.
    public var status: Status
    /// The program's exit status, for commands that run a program.
    public var exitCode: Int32?
    /// The command's output (for `exec`: standard output), at most the Runner's output limit in UTF-8 bytes.
    public var output: String
    /// True when `output` was cut at the limit.
    public var truncated: Bool
    /// Why the command failed, was refused or timed out (for `exec`: includes the tail of standard error).
    public var error: String?
    /// How long the command took.
    public var duration: Duration
    /// What the hosting agent must do next, if anything.
    public var directive: AgentDirective?

    /// Creates an outcome.
    public init(
        status: Status, exitCode: Int32? = nil, output: String = "", truncated: Bool = false,
        error: String? = nil, duration: Duration = .zero, directive: AgentDirective? = nil
    ) {
        self.status = status
        self.exitCode = exitCode
        self.output = output
        self.truncated = truncated
        self.error = error
        self.duration = duration
        self.directive = directive
    }

    /// A refusal, with the reason.
    public static func refused(_ reason: String) -> PluginOutcome {
        PluginOutcome(status: .refused, error: reason)
    }

    /// A failure built from an ``AgentError`` (a `.timeout` code gives the `timeout` status).
    public static func failed(_ error: AgentError) -> PluginOutcome {
        PluginOutcome(status: error.code == .timeout ? .timeout : .failed, error: error.description)
    }

    /// The outcome with its output cut to at most `limit` UTF-8 bytes, at a Unicode scalar boundary.
    /// - Parameter limit: The cap in bytes.
    public func capped(at limit: Int) -> PluginOutcome {
        guard output.utf8.count > limit else { return self }
        var copy = self
        let scalars = output.unicodeScalars
        var bytes = 0
        var end = scalars.startIndex
        while end < scalars.endIndex {
            let width = UTF8.width(scalars[end])
            if bytes + width > limit { break }
            bytes += width
            end = scalars.index(after: end)
        }
        copy.output = String(scalars[..<end])
        copy.truncated = true
        return copy
    }
}

/// What a command plugin is told besides the request.
public struct CommandContext: Sendable {
    /// The current time from the Client's ``VEMCore/Timeline``.
    public var now: Double
    /// The effective timeout (the request's, or the Runner's default).
    public var timeout: Duration
    /// The cap on output, in bytes.
    public var outputLimit: Int

    /// Creates a context.
    public init(now: Double, timeout: Duration, outputLimit: Int = PluginOutcome.defaultOutputLimit) {
        self.now = now
        self.timeout = timeout
        self.outputLimit = outputLimit
    }
}

/// A command plugin: the code behind a command name.
///
/// The ``Runner`` checks the allowlist before calling a plugin, applies the timeout (plugins must
/// honour task cancellation), measures the duration and caps the output.
public protocol CommandPlugin: Sendable {
    /// The command's name (`exec`, `slurm.drain`).
    var name: String { get }

    /// True when the plugin itself stops its work at ``CommandContext/timeout`` (and reports a
    /// `timeout` outcome); the Runner then only applies a later backstop. Defaults to false.
    var enforcesTimeout: Bool { get }

    /// The named arguments the plugin understands (``CommandRequest/options``); the Runner refuses a command
    /// with any other. Defaults to none.
    var options: Set<String> { get }

    /// Runs the command.
    /// - Parameters:
    ///   - request: The command with its arguments.
    ///   - context: The time, timeout and output cap.
    /// - Returns: The outcome (never throws: failures are outcomes).
    func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome
}

extension CommandPlugin {
    /// None.
    public var options: Set<String> { [] }
}
