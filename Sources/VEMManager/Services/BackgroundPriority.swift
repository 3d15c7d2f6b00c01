import Glibc

/// The scheduling priority of the journal's writes, beside the event loops. The hub's event loops carry every
/// Client's traffic: a loop thread that waits for a core is a stalled loop, and the replies queued meanwhile are
/// handled in one longer wake after. GRDB's queue asks for `userInitiated`, which libdispatch runs at nice -2 when
/// it may, above the loops (nice 0); the Manager brings the journal's writes down to the loops' level (or below).
///
/// On Linux a nice value belongs to a thread (`setpriority(PRIO_PROCESS, 0)` sets the caller's). A thread is only
/// ever lowered (an unprivileged process cannot raise it back) and stays lowered: the threads that run this work
/// are dispatch queues' workers, never an event loop's. nil leaves every thread as it is.
///
/// The pool's actor is not lowered: on a dispatch queue of its own at the loops' level (branch scale8), a pass
/// took longer (p50 15.5–17.8 ms against 13.6–14.6 ms on the cooperative pool, three alternated pairs at
/// 10,000 Clients, load 0.6–1.0) for no gain in the loops' stall; at 5 steps below, its queue shared
/// libdispatch's workers with the journal's result writer and the commands journaled per second fell by half.
public enum BackgroundPriority {
    /// The steps `vem manager` (and `vem bench manager`, which stands for it) runs the journal's writes below
    /// the loops: 0, their level.
    public static let managerDefault = 0

    /// What the steps count from: the process's own nice value (its main thread's, as `nice -n` set it), or 0 if
    /// that is below 0 — libdispatch runs its default-QoS workers, where Swift's tasks make the event loops'
    /// threads, at nice 0 whenever it may, so a loop never runs above 0 however the process was started.
    public static let baseNiceness = max(
        0, Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getpid()))))

    /// The calling thread's nice value.
    public static func currentThreadNiceness() -> Int {
        Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
    }

    /// Lowers the calling thread's priority to `steps` nice steps below ``baseNiceness`` (at most nice 19) if it
    /// is higher now; never raises it. `steps` 0 lowers a thread above the base to it (GRDB's queue, at nice -2,
    /// above the loops); nil changes nothing.
    public static func lowerCurrentThread(by steps: Int?) {
        guard let steps, steps >= 0 else { return }
        let target = min(baseNiceness + steps, 19)
        // `who` 0 is the calling thread. getpriority returns -1 for nice -1 as for an error: an error leaves the
        // thread as it is (setpriority would fail the same way).
        let current = Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
        guard current < target else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Int32(target))
    }
}
