import Synchronization

/// Wakes one waiting task: a ring while nobody waits is kept for the next ``wait()`` (rings between two waits
/// count as one). TriggerWatch's shell waits on it beside its clock.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private let state = Mutex(State())

    /// Rings: the waiter (or the next one) returns.
    func ring() {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            defer { s.waiter = nil }
            if s.waiter == nil { s.rung = true }
            return s.waiter
        }
        waiter?.resume(returning: true)
    }

    /// Returns at the next ring (at once if one came since the last wait): true; or when the task is cancelled
    /// first: false.
    func wait() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { s -> Bool? in
                    if s.rung {
                        s.rung = false
                        return true
                    }
                    if Task.isCancelled { return false }
                    s.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { s -> CheckedContinuation<Bool, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }?.resume(returning: false)
        }
    }
}
