import VEMAgent
import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// What a Slurm command printed and how it ended.
public struct SlurmOutput: Sendable, Hashable {
    /// The exit status (0 for success).
    public var status: Int32
    /// Standard output.
    public var standardOutput: Data
    /// Standard error, as text (its first few KiB).
    public var standardError: String

    /// Creates an output.
    public init(status: Int32, standardOutput: Data = Data(), standardError: String = "") {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// Standard error's non-empty lines joined with `; ` (at most 300 characters), or `no message`.
    public var errorSummary: String {
        let lines = standardError.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace(newlines: false) }
        let text = lines.filter { !$0.isEmpty }.joined(separator: "; ")
        return text.isEmpty ? "no message" : String(text.prefix(300))
    }
}

/// Runs Slurm commands. ``ProcessSlurmExecutor`` runs the real programs; unit tests pass fakes that answer
/// from fixtures.
public protocol SlurmExecutor: Sendable {
    /// Runs a command within a timeout.
    /// - Parameters:
    ///   - command: The command.
    ///   - timeout: How long it may run before it is stopped.
    /// - Returns: Its output, also for a non-zero exit status.
    /// - Throws: ``SlurmError`` `.timeout` when it ran out of time, `.spawnFailed` when it could not start,
    ///   `.commandFailed` when it was killed by a signal, printed too much or was cancelled.
    func run(_ command: SlurmCommand, timeout: Duration) async throws -> SlurmOutput
}

/// Runs the real Slurm programs with VEMAgent's ``ProcessRunner``: no shell, own process group, stopped with
/// SIGTERM then SIGKILL at the timeout.
public struct ProcessSlurmExecutor: SlurmExecutor {
    /// Where the programs are (`/usr/bin` on Debian).
    public var binDirectory: String
    /// The `slurm.conf` to use (`SLURM_CONF`), or nil for Slurm's default (`/etc/slurm/slurm.conf`).
    public var slurmConf: String?
    /// The largest standard output accepted, in bytes. Default 64 MiB (`squeue --json` prints ~3.5 KiB a job).
    public var outputLimit: Int

    /// Creates an executor.
    /// - Parameters:
    ///   - binDirectory: Where the programs are; must be absolute.
    ///   - slurmConf: The `SLURM_CONF` path, or nil.
    ///   - outputLimit: The largest output accepted, in bytes.
    public init(binDirectory: String = "/usr/bin", slurmConf: String? = nil, outputLimit: Int = 64 << 20) {
        self.binDirectory = binDirectory
        self.slurmConf = slurmConf
        self.outputLimit = outputLimit
    }

    /// The absolute path of a program.
    public func path(of program: SlurmProgram) -> String {
        (binDirectory.hasSuffix("/") ? binDirectory : binDirectory + "/") + program.rawValue
    }

    /// Runs the command; see ``SlurmExecutor/run(_:timeout:)``.
    public func run(_ command: SlurmCommand, timeout: Duration) async throws -> SlurmOutput {
        var config = ProcessRunner.Configuration(timeout: timeout, outputLimit: outputLimit)
        config.killGrace = .milliseconds(500)
        if let slurmConf { config.environment["SLURM_CONF"] = slurmConf }
        let program = path(of: command.program)
        let result: ProcessResult
        do {
            result = try await ProcessRunner(configuration: config).run(program, arguments: command.arguments)
        } catch let error as AgentError {
            throw SlurmError(.spawnFailed, "cannot start \(program)", cause: error.description)
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if result.timedOut {
            throw SlurmError(
                .timeout,
                "\(command.program.rawValue) did not answer within \(seconds.formatted()) s and was stopped; "
                    + "is slurmctld running and reachable?", cause: result.errorText.isEmpty ? nil : result.errorText)
        }
        if result.cancelled { throw SlurmError(.commandFailed, "\(command.program.rawValue) was cancelled") }
        if result.outputTruncated {
            throw SlurmError(.commandFailed, "\(command.program.rawValue) printed more than \(outputLimit) bytes")
        }
        switch result.termination {
        case .exited(let status):
            return SlurmOutput(
                status: status, standardOutput: Data(result.standardOutput), standardError: result.errorText)
        case .signaled(let signal):
            throw SlurmError(
                .commandFailed, "\(command.program.rawValue) was killed by signal \(signal)", cause: result.errorText)
        }
    }
}

extension Double {
    fileprivate func formatted() -> String {
        self == rounded() ? String(Int(self)) : cFormat("%.1f", self)
    }
}
