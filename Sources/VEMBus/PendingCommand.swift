import Synchronization
import VEMProtocol

/// How a submitted command ended, as far as the Manager can know.
public enum CommandOutcome: Hashable, Sendable {
    /// The Client executed it and reported this result.
    case result(CommandResult)
    /// It was sent, but the Client's incarnation ended before its result came back: it may or may not have run.
    /// Reconciliation decides.
    case unknown
    /// It was never sent and never will be (only with the `cancel` unsent policy).
    case cancelled
}

/// A command handed to the bus: its sequence number now, its outcome later.
///
/// ``ManagerBus/submit(_:arguments:to:)`` numbers commands synchronously, so a caller submitting several
/// commands to one Client fixes their order before awaiting any outcome.
public final class PendingCommand: Sendable {
    /// The Client the command was submitted to.
    public let client: String
    /// The command's sequence number in that Client's command stream.
    public let seq: UInt64
    private let state = Mutex<State>(.waiting([]))

    private enum State {
        case waiting([CheckedContinuation<CommandOutcome, Never>])
        case done(CommandOutcome)
    }

    /// Creates a pending command (transports create these; callers get them from `submit`).
    public init(client: String, seq: UInt64) {
        self.client = client
        self.seq = seq
    }

    /// The outcome, if it is known already.
    public var currentOutcome: CommandOutcome? {
        state.withLock { state in
            if case .done(let outcome) = state { return outcome }
            return nil
        }
    }

    /// Waits for the outcome (a result, `.unknown`, or `.cancelled`). Every call gets the same outcome.
    public func outcome() async -> CommandOutcome {
        await withCheckedContinuation { continuation in
            let ready: CommandOutcome? = state.withLock { state in
                switch state {
                case .done(let outcome):
                    return outcome
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Records the outcome (first call wins) and wakes every waiter.
    /// - Parameter outcome: How the command ended.
    public func resolve(_ outcome: CommandOutcome) {
        let waiters: [CheckedContinuation<CommandOutcome, Never>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(outcome)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
    }
}
