import Synchronization

/// What the Manager still has to do about what already happened: Sender jobs queued or running (and TriggerWatch
/// steps under way), commands whose outcome (and what the pool makes of it) is not in yet, replies to its property
/// requests not yet taken into the state, and property updates TriggerWatch has not picked up. A simulated clock
/// (the demo's) waits for ``isQuiet`` before moving on, so the Manager keeps up with it on any machine; tests
/// await ``quiet()`` after stepping their clock.
public final class ManagerActivity: Sendable {
    private let jobs = Atomic<Int>(0)
    private let commands = Atomic<Int>(0)
    private let replies = Atomic<Int>(0)
    /// The property replies still owed, by Client: a Client that leaves owes none (``clientGone(_:)``).
    private let owed = Mutex<[String: Int]>([:])
    private let updates = Atomic<Int>(0)
    private let updatePassDue = Atomic<Bool>(false)
    /// Tasks in ``quiet()``; counted apart so that a change with none waiting takes no lock.
    private let waiting = Atomic<Int>(0)
    private let waiters = Mutex<[(id: Int, continuation: CheckedContinuation<Void, Never>)]>([])
    private let nextWaiter = Atomic<Int>(0)

    /// Nothing pending.
    public init() {}

    /// Whether nothing is pending: the Manager is waiting for time or for its Clients' news.
    public var isQuiet: Bool {
        jobs.load(ordering: .sequentiallyConsistent) <= 0 && commands.load(ordering: .sequentiallyConsistent) <= 0
            && replies.load(ordering: .sequentiallyConsistent) <= 0
            && (updates.load(ordering: .sequentiallyConsistent) <= 0
                || updatePassDue.load(ordering: .sequentiallyConsistent))
    }

    /// What is pending, for a report: Sender jobs, commands, property replies, on-update passes.
    public var pending: (jobs: Int, commands: Int, replies: Int, updates: Int) {
        (
            jobs.load(ordering: .relaxed), commands.load(ordering: .relaxed), replies.load(ordering: .relaxed),
            updates.load(ordering: .relaxed)
        )
    }

    /// Returns once nothing is pending (at once if nothing is): no polling, the change that makes the Manager
    /// quiet wakes it. What is due at a later time (a trigger's next tick, the debounce) is not pending.
    /// A cancelled task stops waiting (so a test's time limit ends a wait that would never end).
    public func quiet() async {
        let id = nextWaiter.add(1, ordering: .relaxed).newValue
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = waiters.withLock { list -> Bool in
                    waiting.add(1, ordering: .sequentiallyConsistent)
                    if isQuiet || Task.isCancelled {
                        waiting.subtract(1, ordering: .sequentiallyConsistent)
                        return true
                    }
                    list.append((id, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let cancelled = waiters.withLock { list -> CheckedContinuation<Void, Never>? in
                guard let i = list.firstIndex(where: { $0.id == id }) else { return nil }
                waiting.subtract(1, ordering: .sequentiallyConsistent)
                return list.remove(at: i).continuation
            }
            cancelled?.resume()
        }
    }

    /// Something pending ended: wakes the waiters if nothing is left.
    private func changed() {
        guard waiting.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let woken = waiters.withLock { list -> [CheckedContinuation<Void, Never>] in
            guard isQuiet, !list.isEmpty else { return [] }
            defer { list = [] }
            waiting.subtract(list.count, ordering: .sequentiallyConsistent)
            return list.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    func jobQueued() { jobs.add(1, ordering: .sequentiallyConsistent) }
    func jobDone() {
        jobs.subtract(1, ordering: .sequentiallyConsistent)
        changed()
    }
    func commandSent() { commands.add(1, ordering: .sequentiallyConsistent) }
    func commandSettled() {
        commands.subtract(1, ordering: .sequentiallyConsistent)
        changed()
    }
    /// A property request went to `clients`: a reply from each is pending.
    func repliesExpected(from clients: [String]) {
        guard !clients.isEmpty else { return }
        owed.withLock { owed in
            for client in clients { owed[client, default: 0] += 1 }
            replies.store(owed.count, ordering: .sequentiallyConsistent)
        }
    }
    /// `client` answered a property request.
    func replyTaken(from client: String) {
        let was = owed.withLock { owed -> Bool in
            guard let count = owed[client] else { return false }
            owed[client] = count > 1 ? count - 1 : nil
            replies.store(owed.count, ordering: .sequentiallyConsistent)
            return true
        }
        if was { changed() }
    }
    /// `client` left or was disconnected: the replies it owed will never come, so they are not waited for.
    func clientGone(_ client: String) {
        let was = owed.withLock { owed -> Bool in
            guard owed.removeValue(forKey: client) != nil else { return false }
            replies.store(owed.count, ordering: .sequentiallyConsistent)
            return true
        }
        if was { changed() }
    }
    func updateSignalled() { updates.store(1, ordering: .sequentiallyConsistent) }
    func updateTaken() {
        updates.store(0, ordering: .sequentiallyConsistent)
        changed()
    }
    /// TriggerWatch waits for the time of its next on-update pass (the debounce): that pass covers every update
    /// signalled meanwhile, so they are not work pending before time moves on.
    func updatePassWaiting(_ waiting: Bool) {
        updatePassDue.store(waiting, ordering: .sequentiallyConsistent)
        if waiting { changed() }
    }
}
