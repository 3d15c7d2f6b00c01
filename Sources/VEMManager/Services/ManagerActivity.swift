import Synchronization

/// What the Manager still has to do about what already happened: Sender jobs queued or running, commands whose
/// outcome (and what the pool makes of it) is not in yet, replies to its property requests not yet taken into
/// the state, and property updates TriggerWatch has not picked up. A simulated clock (the demo's) waits for
/// ``isQuiet`` before moving on, so the Manager keeps up with it on any machine.
public final class ManagerActivity: Sendable {
    private let jobs = Atomic<Int>(0)
    private let commands = Atomic<Int>(0)
    private let replies = Atomic<Int>(0)
    private let updates = Atomic<Int>(0)
    private let updatePassDue = Atomic<Bool>(false)

    /// Nothing pending.
    public init() {}

    /// Whether nothing is pending: the Manager is waiting for time or for its Clients' news.
    public var isQuiet: Bool {
        jobs.load(ordering: .acquiring) <= 0 && commands.load(ordering: .acquiring) <= 0
            && replies.load(ordering: .acquiring) <= 0
            && (updates.load(ordering: .acquiring) <= 0 || updatePassDue.load(ordering: .acquiring))
    }

    /// What is pending, for a report: Sender jobs, commands, property replies, on-update passes.
    public var pending: (jobs: Int, commands: Int, replies: Int, updates: Int) {
        (
            jobs.load(ordering: .relaxed), commands.load(ordering: .relaxed), replies.load(ordering: .relaxed),
            updates.load(ordering: .relaxed)
        )
    }

    func jobQueued() { jobs.add(1, ordering: .releasing) }
    func jobDone() { jobs.subtract(1, ordering: .releasing) }
    func commandSent() { commands.add(1, ordering: .releasing) }
    func commandSettled() { commands.subtract(1, ordering: .releasing) }
    func repliesExpected(_ count: Int) { replies.add(count, ordering: .releasing) }
    func replyTaken() { replies.subtract(1, ordering: .releasing) }
    /// Property replies that will never come (their Client left): no longer waited for.
    func repliesAbandoned(_ count: Int) { replies.subtract(count, ordering: .releasing) }
    func updateSignalled() { updates.store(1, ordering: .releasing) }
    func updateTaken() { updates.store(0, ordering: .releasing) }
    /// TriggerWatch waits for the time of its next on-update pass (the debounce): that pass covers every update
    /// signalled meanwhile, so they are not work pending before time moves on.
    func updatePassWaiting(_ waiting: Bool) { updatePassDue.store(waiting, ordering: .releasing) }
}
