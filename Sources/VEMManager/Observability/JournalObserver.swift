import Synchronization

/// What the journal tells of its writes: the Manager's metrics listen (journal write latency, decisions).
public struct JournalObserver: Sendable {
    /// A write transaction ended (committed or failed), with the time from asking for it, queueing included.
    public var wrote: @Sendable (_ operation: String, _ duration: Duration) -> Void
    /// A decision went to the decision log.
    public var decided: @Sendable (_ action: String) -> Void

    /// An observer.
    public init(
        wrote: @escaping @Sendable (_ operation: String, _ duration: Duration) -> Void,
        decided: @escaping @Sendable (_ action: String) -> Void
    ) {
        self.wrote = wrote
        self.decided = decided
    }
}

/// The journal's observer, set once the Manager exists (the journal is opened before it).
final class JournalObserverSlot: Sendable {
    private let observer = Mutex<JournalObserver?>(nil)

    var current: JournalObserver? {
        get { observer.withLock { $0 } }
        set { observer.withLock { $0 = newValue } }
    }

    /// Times `body` and reports it as a write of `operation`.
    func timed<T>(_ operation: String, _ body: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        defer { current?.wrote(operation, ContinuousClock.now - started) }
        return try body()
    }
}

extension Journal {
    /// Tells `observer` of every write from now on (the Manager's metrics).
    public func observe(_ observer: JournalObserver) { observers.current = observer }
}
