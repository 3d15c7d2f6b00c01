import VEMCore

/// The paper's *Runner*: executes the Manager's commands through command plugins, strictly in sequence
/// order, one at a time, each at most once, and only when the allowlist permits.
///
/// The hosting agent calls ``execute(_:)`` once per arriving command, each from its own child task (a
/// task group in its `run()`); the call returns that command's outcome when it has run. A command that
/// arrives before its predecessors waits for them; a duplicate returns the first copy's outcome. While a
/// command runs, the actor is free: other arrivals are admitted and other work goes on.
///
/// Checks, in order: the sequence (duplicates are never run again), the ``Allowlist`` (else
/// `refused`), the plugin's existence (else `refused`). Then the plugin runs under the command's
/// timeout (else `timeout`); the outcome's output is capped and its duration measured on the clock.
/// A command whose predecessor never arrives waits until it does (the bus resends after a reconnect).
public actor Runner {
    /// Timeouts, output cap and sequence settings.
    public struct Configuration: Sendable {
        /// The timeout of commands that do not give one. Default 60 s.
        public var defaultTimeout: Duration = .seconds(60)
        /// The cap on a command's output, in UTF-8 bytes. Default 64 KiB.
        public var outputLimit: Int = PluginOutcome.defaultOutputLimit
        /// The first sequence number expected. Default 1.
        public var firstSequence: UInt64 = 1
        /// How many finished outcomes are kept to answer duplicates. Default 256.
        public var rememberedOutcomes: Int = 256

        /// Creates a configuration with the defaults.
        public init() {}
    }

    private var sequencer: CommandSequencer
    private var turnWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var duplicateWaiters: [UInt64: [CheckedContinuation<PluginOutcome, Never>]] = [:]
    private let registry: PluginRegistry
    private let allowlist: Allowlist
    private let clock: any Timeline
    private let configuration: Configuration

    /// Creates a Runner.
    /// - Parameters:
    ///   - registry: Where the command plugins are.
    ///   - allowlist: What may run.
    ///   - clock: The Client's clock (for durations and plugin contexts).
    ///   - configuration: Timeouts and limits.
    public init(
        registry: PluginRegistry, allowlist: Allowlist, clock: any Timeline = MonotonicClock(),
        configuration: Configuration = Configuration()
    ) {
        sequencer = CommandSequencer(first: configuration.firstSequence, memory: configuration.rememberedOutcomes)
        self.registry = registry
        self.allowlist = allowlist
        self.clock = clock
        self.configuration = configuration
    }

    /// The sequence number of the next command to run.
    public var nextSequence: UInt64 { sequencer.next }

    /// Admitted commands waiting for an earlier one.
    public var waiting: [UInt64] { sequencer.waiting }

    /// Executes a command in its turn and returns its outcome.
    ///
    /// Returns at once for a duplicate of a finished command (its remembered outcome) or a forgotten one
    /// (`refused`). Cancelling the calling task does not skip the command: once admitted it runs in its
    /// turn, so that the ones after it are not blocked.
    /// - Parameter request: The command.
    public func execute(_ request: CommandRequest) async -> PluginOutcome {
        let seq = request.sequence
        switch sequencer.admit(seq) {
        case .completed(let outcome):
            return outcome
        case .forgotten:
            return .refused(
                "command \(seq) was already executed (or precedes this client's first command); not run again")
        case .pending:
            return await withCheckedContinuation { duplicateWaiters[seq, default: []].append($0) }
        case .accepted:
            break
        }
        if !sequencer.isTurn(seq) {
            await withCheckedContinuation { turnWaiters[seq] = $0 }
        }
        let outcome = await perform(request)
        sequencer.complete(seq, outcome)
        for waiter in duplicateWaiters.removeValue(forKey: seq) ?? [] { waiter.resume(returning: outcome) }
        turnWaiters.removeValue(forKey: sequencer.next)?.resume()
        return outcome
    }

    private func perform(_ request: CommandRequest) async -> PluginOutcome {
        if let refusal = allowlist.check(request) {
            return .refused(refusal.message)
        }
        guard let plugin = registry.commandPlugin(named: request.name) else {
            return .refused("no command plugin named '\(request.name)' on this client")
        }
        if let unknown = request.options.keys.sorted().first(where: { !plugin.options.contains($0) }) {
            let known = plugin.options.isEmpty ? "none" : plugin.options.sorted().joined(separator: ", ")
            return .refused("command '\(request.name)' has an unknown named argument '\(unknown)' (known: \(known))")
        }
        let timeout = request.timeout ?? configuration.defaultTimeout
        let context = CommandContext(now: clock.now(), timeout: timeout, outputLimit: configuration.outputLimit)
        // Plugins that stop their own work at the timeout (exec kills its process group) get a backstop
        // a little later, so that their own, more informative, outcome wins.
        let limit = plugin.enforcesTimeout ? timeout + .seconds(5) : timeout
        let started = clock.now()
        var outcome: PluginOutcome
        do {
            outcome = try await withTimeout(limit, what: "command '\(request.name)' (\(request.sequence))") {
                await plugin.run(request, context: context)
            }
        } catch let error as AgentError {
            outcome = .failed(error)
        } catch {
            outcome = .failed(AgentError(.systemCall, "command '\(request.name)' failed", cause: "\(error)"))
        }
        outcome.duration = .nanoseconds(Int64(max(0, clock.now() - started) * 1e9))
        return outcome.capped(at: configuration.outputLimit)
    }
}

extension CommandPlugin {
    /// False: the Runner stops the plugin (by cancelling it) at the command's timeout. Plugins that stop
    /// their own work at ``CommandContext/timeout`` return true and get a later backstop.
    public var enforcesTimeout: Bool { false }
}
