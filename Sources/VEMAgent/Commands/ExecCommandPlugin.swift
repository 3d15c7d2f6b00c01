/// The `exec` command: runs an allowlisted program and reports its exit status and output.
///
/// Arguments: `[program, arg, …]`: the program's absolute path (which must be in the allowlist's
/// ``Allowlist/programs`` — checked here as well as by the ``Runner``), then its arguments. No shell.
/// Outcome: `ok` on exit status 0; `failed` with the exit code (or the killing signal) and the tail of
/// standard error otherwise; `timeout` (with the output so far) when it ran past the command's timeout
/// and its process group was stopped; `refused` for a program not in the allowlist. Output is standard
/// output, capped at the Runner's limit with `truncated` set.
public struct ExecCommandPlugin: CommandPlugin {
    /// `exec`.
    public let name = "exec"
    /// True: the program is stopped at the command's timeout by the plugin itself.
    public var enforcesTimeout: Bool { true }
    private let allowlist: Allowlist
    private let killGrace: Duration

    /// Creates the plugin.
    /// - Parameters:
    ///   - allowlist: The programs it may start.
    ///   - killGrace: How long after `SIGTERM` the process group gets `SIGKILL` (default 1 s).
    public init(allowlist: Allowlist, killGrace: Duration = .seconds(1)) {
        self.allowlist = allowlist
        self.killGrace = killGrace
    }

    /// Runs the program.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        guard let program = request.arguments.first else {
            return .refused("exec needs the absolute path of a program")
        }
        if let refusal = allowlist.checkProgram(program) { return .refused(refusal.message) }
        var config = ProcessRunner.Configuration(timeout: context.timeout, outputLimit: context.outputLimit)
        config.killGrace = killGrace
        let result: ProcessResult
        do {
            result = try await ProcessRunner(configuration: config).run(
                program, arguments: Array(request.arguments.dropFirst()))
        } catch let error as AgentError {
            return .failed(error)
        } catch {
            return .failed(AgentError(.spawnFailed, "cannot start \(program)", cause: "\(error)"))
        }
        var outcome = PluginOutcome(
            status: .ok, output: result.outputText, truncated: result.outputTruncated, duration: result.duration)
        switch result.termination {
        case .exited(let code):
            outcome.exitCode = code
            if code != 0 {
                outcome.status = .failed
                outcome.error = join("\(program) exited with status \(code)", tail(result.errorText))
            }
        case .signaled(let signal):
            outcome.status = .failed
            outcome.error = join("\(program) was killed by signal \(signal)", tail(result.errorText))
        }
        if result.timedOut {
            outcome.status = .timeout
            outcome.error =
                "\(program) did not finish within \(seconds(context.timeout)) s; its process group was stopped"
        } else if result.cancelled {
            outcome.status = .failed
            outcome.error = "\(program) was cancelled; its process group was stopped"
        }
        return outcome
    }

    private func join(_ message: String, _ stderr: String?) -> String {
        guard let stderr else { return message }
        return message + ": " + stderr
    }
}
