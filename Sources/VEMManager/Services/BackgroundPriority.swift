import Dispatch
import Glibc

/// The scheduling priority of the Manager's work off the event loops. The hub's event loops carry every Client's
/// traffic: a loop thread that waits for a core while the pool's planner or the journal's writer holds it is a
/// stalled loop, and the replies queued meanwhile are handled in one longer wake after. With a step above 0, the
/// pool's actor (its planner passes, ``PoolController``) runs on a thread that many nice steps below the loops, so
/// the kernel gives a waking loop a core first; it still gets its share (at 5 steps, a third of a loop's weight
/// when both want a core, and all of a core nobody else wants). The journal's writes run at the loops' level, not
/// below: GRDB's queue asks for `userInitiated`, which libdispatch runs at nice -2 when it may (above the loops),
/// and a commit is a wait the pass and the command's sending sit behind, where a plan is CPU.
///
/// On Linux a nice value belongs to a thread (`setpriority(PRIO_PROCESS, 0)` sets the caller's). A thread is only
/// ever lowered (an unprivileged process cannot raise it back) and stays lowered: the threads that run this work
/// are dispatch queues' workers, never an event loop's. 0 leaves every thread as it is (the libraries' own choice:
/// GRDB's queue asks for `userInitiated`, which libdispatch runs at nice -2 when it may — above the loops).
public enum BackgroundPriority {
    /// The steps `vem manager` (and `vem bench manager`, which stands for it) lowers the pool's actor by: 0, the
    /// loops' level (with the journal's writes brought down to it). At 5 steps, measured on a loaded machine, the
    /// commands journaled per second fell by half or more: the pool's queue shares libdispatch's workers with the
    /// journal's result writer, and a worker once lowered stays lowered, so the journal ran at 5 too. A thread
    /// of the pool's own would avoid that.
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

/// A serial executor on a dispatch queue whose jobs run ``steps`` nice steps below the process
/// (``BackgroundPriority``): the pool's actor runs on it, so that a planner pass yields its core to a waking loop.
final class BackgroundExecutor: SerialExecutor {
    private let queue: DispatchQueue
    /// The nice steps its jobs run below the base (nil: the queue's thread as it is).
    let steps: Int?

    /// An executor on a queue of its own named `label`.
    init(label: String, steps: Int?) {
        queue = DispatchQueue(label: label)
        self.steps = steps
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let steps = steps
        queue.async { [self] in
            BackgroundPriority.lowerCurrentThread(by: steps)
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
