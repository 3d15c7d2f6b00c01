import Synchronization

/// The tasks waiting for a service to catch up with a time (``TriggerWatch/caughtUp(to:)``, the PoolTimer's and
/// the journal pruner's): woken when the service has run what was due by then, or when their task is cancelled, so
/// a test's time limit ends a wait that would never end instead of hanging.
struct ClockWaiters: Sendable {
    private var list: [(id: Int, time: Double, continuation: CheckedContinuation<Void, Never>)] = []
    private static let ids = Atomic<Int>(0)

    init() {}

    /// Adds a waiter for `time`.
    mutating func add(id: Int, time: Double, _ continuation: CheckedContinuation<Void, Never>) {
        list.append((id, time, continuation))
    }

    /// Takes the waiters whose time `isDone` says is reached.
    mutating func take(where isDone: (Double) -> Bool) -> [CheckedContinuation<Void, Never>] {
        let done = list.filter { isDone($0.time) }.map(\.continuation)
        list.removeAll { isDone($0.time) }
        return done
    }

    /// Takes the waiter `id` (nil when it was woken already).
    mutating func remove(id: Int) -> CheckedContinuation<Void, Never>? {
        guard let i = list.firstIndex(where: { $0.id == id }) else { return nil }
        return list.remove(at: i).continuation
    }

    /// Waits unless `enqueue` (which adds the waiter under the service's lock) says there is nothing to wait for,
    /// until the service wakes it or the task is cancelled (`cancel` takes it back out under that lock).
    static func wait(
        enqueue: (Int, CheckedContinuation<Void, Never>) -> Bool,
        cancel: @Sendable (Int) -> CheckedContinuation<Void, Never>?
    ) async {
        let id = ids.add(1, ordering: .relaxed).newValue
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if Task.isCancelled || enqueue(id, continuation) { continuation.resume() }
            }
        } onCancel: {
            cancel(id)?.resume()
        }
    }
}

/// When a periodic service (the PoolTimer, the journal pruner) next runs, and the tests waiting for it to catch
/// up with their clock.
final class TickSchedule: Sendable {
    private let state: Mutex<(next: Double, waiters: ClockWaiters)>

    /// A schedule whose first run is due at `next`.
    init(next: Double) { state = Mutex((next, ClockWaiters())) }

    /// When the next run is due (moved only by ``ticked(next:)``, which wakes the waiters it passes).
    var next: Double { state.withLock { $0.next } }

    /// A run finished; the next is due at `next`: the waiters for an earlier time are woken.
    func ticked(next: Double) {
        let done = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.next = next
            return s.waiters.take { $0 < next }
        }
        for continuation in done { continuation.resume() }
    }

    /// Returns once every run due by `time` has finished (at once when none is due by then).
    func caughtUp(to time: Double) async {
        await ClockWaiters.wait { id, continuation in
            state.withLock { s -> Bool in
                if s.next > time { return true }
                s.waiters.add(id: id, time: time, continuation)
                return false
            }
        } cancel: { [self] id in
            state.withLock { $0.waiters.remove(id: id) }
        }
    }
}
