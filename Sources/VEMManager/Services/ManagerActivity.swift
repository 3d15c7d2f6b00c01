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
    private let updates = Atomic<Int>(0)
    private let updatePassDue = Atomic<Bool>(false)
    /// Tasks in ``quiet()``; counted apart so that a change with none waiting takes no lock.
    private let waiting = Atomic<Int>(0)
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]>([])

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
    public func quiet() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = waiters.withLock { list -> Bool in
                waiting.add(1, ordering: .sequentiallyConsistent)
                if isQuiet {
                    waiting.subtract(1, ordering: .sequentiallyConsistent)
                    return true
                }
                list.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Something pending ended: wakes the waiters if nothing is left.
    private func changed() {
        guard waiting.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let woken = waiters.withLock { list -> [CheckedContinuation<Void, Never>] in
            guard isQuiet, !list.isEmpty else { return [] }
            defer { list = [] }
            waiting.subtract(list.count, ordering: .sequentiallyConsistent)
            return list
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
    func repliesExpected(_ count: Int) { replies.add(count, ordering: .sequentiallyConsistent) }
    func replyTaken() {
        replies.subtract(1, ordering: .sequentiallyConsistent)
        changed()
    }
    /// Property replies that will never come (their Client left): no longer waited for.
    func repliesAbandoned(_ count: Int) {
        replies.subtract(count, ordering: .sequentiallyConsistent)
        changed()
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
