import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// `exec`: runs a program and reports its standard output, converted by the return type.
///
/// Parameters: `[program, arg, …]`: the program's absolute path, then its arguments (no shell, no
/// `PATH` search). The program runs within the property's timeout (its process group is stopped with
/// `SIGTERM`, then `SIGKILL`); a non-zero exit, a timeout, or more than 64 KiB of output is a failure
/// value. Properties come from the Client's own configuration, so this plugin has no allowlist; the
/// Manager cannot define properties, only ask for configured ones by name.
///
/// ```
/// [slurm_pending]
/// command = exec
/// parameters = /usr/bin/squeue, --json, --states=PENDING
/// return_type = json
/// ticks = 30
/// ```
public struct ExecPropertyPlugin: PropertyPlugin {
    /// `exec`.
    public let name = "exec"
    /// True: the program is stopped at the property's timeout by the plugin itself.
    public var enforcesTimeout: Bool { true }
    private let outputLimit: Int

    /// Creates the plugin.
    /// - Parameter outputLimit: The largest accepted output, in bytes (default 64 KiB).
    public init(outputLimit: Int = PluginOutcome.defaultOutputLimit) { self.outputLimit = outputLimit }

    /// Runs the program and returns its output as `.string`.
    /// - Throws: ``AgentError`` `.badParameters`, `.spawnFailed`, `.programFailed`, `.timeout`,
    ///   `.cancelled`, `.malformedInput` (output too long).
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        guard let program = Params.at(parameters, 0) else {
            throw AgentError(.badParameters, "exec needs the absolute path of a program")
        }
        let arguments = parameters.dropFirst()
        var config = ProcessRunner.Configuration(timeout: context.timeout, outputLimit: outputLimit)
        config.killGrace = .milliseconds(500)
        let result = try await ProcessRunner(configuration: config).run(program, arguments: Array(arguments))
        if result.timedOut {
            throw AgentError(.timeout, "\(program) did not finish within \(seconds(context.timeout)) s")
        }
        if result.cancelled { throw AgentError(.cancelled, "\(program) was cancelled") }
        switch result.termination {
        case .exited(0): break
        case .exited(let code):
            throw AgentError(.programFailed, "\(program) exited with status \(code)", cause: tail(result.errorText))
        case .signaled(let signal):
            throw AgentError(.programFailed, "\(program) was killed by signal \(signal)", cause: tail(result.errorText))
        }
        if result.outputTruncated {
            throw AgentError(.malformedInput, "\(program) printed more than \(outputLimit) bytes")
        }
        return .string(result.outputText)
    }
}

/// The last line(s) of standard error, at most 200 characters, or nil when empty.
func tail(_ text: String) -> String? {
    let t = text.trimmingWhitespace()
    guard !t.isEmpty else { return nil }
    return t.count > 200 ? "…" + String(t.suffix(200)) : t
}
