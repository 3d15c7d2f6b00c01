import Dispatch
import Glibc

/// The scheduling priority of the Manager's work off the event loops. The hub's event loops carry every Client's
/// traffic: a loop thread that waits for a core while the pool's planner or the journal's writer holds it is a
/// stalled loop, and the replies queued meanwhile are handled in one longer wake after. With a nice value above 0,
/// the pool's actor (its planner passes, ``PoolController``) and the journal's writes run on threads at that nice
/// value, so the kernel gives a waking loop a core first; they still get their share (nice 10 is a tenth of a
/// loop's weight when both want a core, and all of a core nobody else wants).
///
/// On Linux a nice value belongs to a thread (`setpriority(PRIO_PROCESS, 0)` sets the caller's). A thread is only ever lowered
/// (an unprivileged process cannot raise it back) and stays lowered: the threads that run this work are dispatch
/// queues' workers, never an event loop's. 0 leaves every thread as it is (the libraries' own choice: GRDB's
/// queue asks for `userInitiated`, which libdispatch runs at nice -2 when it may — above the loops).
public enum BackgroundPriority {
    /// The nice value `vem manager` (and `vem bench manager`, which stands for it) runs that work at.
    public static let managerDefault = 10

    /// The calling thread's nice value.
    public static func currentThreadNiceness() -> Int {
        Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
    }

    /// Lowers the calling thread's priority to `niceness` (at most 19) if it is higher now (a smaller nice value);
    /// never raises it. `niceness` 0 (or below) changes nothing.
    public static func lowerCurrentThread(to niceness: Int) {
        guard niceness > 0 else { return }
        let target = min(niceness, 19)
        // `who` 0 is the calling thread (Linux keeps a nice value per thread).
        let thread: id_t = 0
        // getpriority returns -1 for nice -1 as for an error: an error leaves the thread as it is (setpriority
        // would fail the same way).
        let current = Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread))
        guard current < target else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread, Int32(target))
    }
}

/// A serial executor on a dispatch queue whose jobs run at ``niceness`` (``BackgroundPriority``): the pool's
/// actor runs on it, so that a planner pass yields its core to a waking event loop.
final class BackgroundExecutor: SerialExecutor {
    private let queue: DispatchQueue
    /// The nice value its jobs run at (0: the queue's thread as it is).
    let niceness: Int

    /// An executor on a queue of its own named `label`.
    init(label: String, niceness: Int) {
        queue = DispatchQueue(label: label)
        self.niceness = niceness
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let niceness = niceness
        queue.async { [self] in
            BackgroundPriority.lowerCurrentThread(to: niceness)
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
