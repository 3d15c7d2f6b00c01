/// Runs `body`, giving up after `timeout`.
///
/// When the timeout wins, `body`'s task is cancelled and awaited (structured concurrency: nothing is
/// left running), so `body` must honour cancellation.
/// - Throws: ``AgentError`` `.timeout` when the timeout wins, `.cancelled` when the caller is
///   cancelled, or whatever `body` throws.
func withTimeout<T: Sendable>(
    _ timeout: Duration, what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: TimeoutFinish<T>.self) { group in
        group.addTask { .value(try await body()) }
        group.addTask {
            try await Task.sleep(for: timeout)
            return .expired
        }
        defer { group.cancelAll() }
        do {
            switch try await group.next() {
            case .value(let v): return v
            case .expired: throw AgentError(.timeout, "\(what) did not finish within \(seconds(timeout)) s")
            case nil: throw AgentError(.cancelled, "\(what) was cancelled")
            }
        } catch is CancellationError {
            throw AgentError(.cancelled, "\(what) was cancelled")
        }
    }
}

/// A duration in seconds, for messages and arithmetic.
func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) / 1e18
}

/// Which child of ``withTimeout(_:what:_:)`` finished first.
private enum TimeoutFinish<T: Sendable>: Sendable {
    case value(T)
    case expired
}
