/// The Runner's ordering rules as a pure state machine: commands run strictly in sequence order, one at
/// a time, each at most once.
///
/// Sequence numbers start at ``next`` (1 unless told otherwise). A command is *admitted* when it
/// arrives; it may run when its sequence number is ``next``; *completing* it advances ``next``. A
/// command that arrives again (the Manager resends unacknowledged commands after a reconnect) is never
/// run twice: while it is queued or running the duplicate waits for the first one's outcome; once done,
/// the remembered outcome is returned; past the memory, it is refused.
public struct CommandSequencer: Sendable {
    /// What to do with an arriving command.
    public enum Admission: Hashable, Sendable {
        /// New: queue it until its turn (``isTurn(_:)``).
        case accepted
        /// A duplicate of a command that is queued or running: wait for that one's outcome.
        case pending
        /// A duplicate of a finished command: this was its outcome.
        case completed(PluginOutcome)
        /// A duplicate of a finished command whose outcome is no longer remembered (or a sequence
        /// number below the first one): refuse it, do not run it.
        case forgotten
    }

    /// The sequence number of the next command to run.
    public private(set) var next: UInt64
    private var admitted = Set<UInt64>()
    private var outcomes: [UInt64: PluginOutcome] = [:]
    private var finishedOrder: [UInt64] = []
    private let memory: Int

    /// Creates a sequencer.
    /// - Parameters:
    ///   - first: The first sequence number to expect (default 1).
    ///   - memory: How many finished outcomes are remembered for duplicates (default 256).
    public init(first: UInt64 = 1, memory: Int = 256) {
        next = first
        self.memory = max(1, memory)
    }

    /// Admits an arriving command.
    public mutating func admit(_ sequence: UInt64) -> Admission {
        if sequence < next {
            if let o = outcomes[sequence] { return .completed(o) }
            return .forgotten
        }
        return admitted.insert(sequence).inserted ? .accepted : .pending
    }

    /// True when the admitted command `sequence` may run now.
    public func isTurn(_ sequence: UInt64) -> Bool { sequence == next && admitted.contains(sequence) }

    /// Admitted commands waiting for an earlier one, sorted (for status displays).
    public var waiting: [UInt64] { admitted.filter { $0 != next }.sorted() }

    /// Records the outcome of the command whose turn it was, and moves to the next sequence number.
    /// - Returns: false (and changes nothing) when it was not `sequence`'s turn.
    @discardableResult
    public mutating func complete(_ sequence: UInt64, _ outcome: PluginOutcome) -> Bool {
        guard isTurn(sequence) else { return false }
        admitted.remove(sequence)
        outcomes[sequence] = outcome
        finishedOrder.append(sequence)
        if finishedOrder.count > memory {
            outcomes[finishedOrder.removeFirst()] = nil
        }
        next += 1
        return true
    }
}
