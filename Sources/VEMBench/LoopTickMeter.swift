import Glibc
import NIOCore
import NIOPosix
import Synchronization

/// Says in which phase an event loop stalled: NIO calls ``processedTick(info:)`` after each tick of a loop (the
/// tasks it ran: timers, `execute`d work); the time between two ticks is the loop's wait for events plus the I/O
/// it handled on waking (reads, writes, the handlers' work on them). With ``StallProbe``'s 1 ms timer armed, a
/// loop never waits for events longer than about 1 ms, so a long gap is I/O handling — or the loop's thread not
/// running at all: the thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`) from the end of the tick before to the end
/// of this one (gap and tick together: NIO says nothing at a tick's start) tells the two apart.
final class LoopTickMeter: NIOEventLoopMetricsDelegate {
    /// The longest tick and the longest gap seen since the last ``reset()``.
    struct Worst: Sendable {
        /// The longest tick (tasks), nanoseconds; the tasks it ran; the loop thread's CPU time over it and the gap
        /// before it; its loop's index.
        var tick: Int64 = 0
        var tickTasks = 0
        var tickCPU: Int64 = 0
        var tickLoop = -1
        /// The longest time between two ticks (waiting for and handling I/O), nanoseconds; the loop thread's CPU
        /// time over it and the tick after it; its loop's index.
        var gap: Int64 = 0
        var gapCPU: Int64 = 0
        var gapLoop = -1
        /// The most CPU a loop thread used from the end of one tick to the end of the next (its I/O and its tasks,
        /// without a break to poll its sockets again): what the longest stall would be on an idle machine, however
        /// loaded this one is; its loop's index; the wall time of its I/O phase and of its tick, and the tasks
        /// the tick ran.
        var busiest: Int64 = 0
        var busiestLoop = -1
        var busiestGap: Int64 = 0
        var busiestTick: Int64 = 0
        var busiestTasks = 0
    }

    private struct LoopState {
        var index: Int
        /// The thread's CPU time at the end of its last tick, nanoseconds.
        var cpuAtTickEnd: Int64 = 0
    }

    private let worst = Mutex(Worst())
    private let loops = Mutex<[ObjectIdentifier: LoopState]>([:])
    private let enabled = Atomic<Bool>(false)

    /// Starts (or restarts) measuring: the worst figures are forgotten.
    func reset() {
        worst.withLock { $0 = Worst() }
        // A loop's first tick after this one starts its count again.
        loops.withLock { loops in
            for key in Array(loops.keys) { loops[key]?.cpuAtTickEnd = 0 }
        }
        enabled.store(true, ordering: .relaxed)
    }

    /// Stops measuring: a tick then costs one atomic load (the quiet rounds after the steps count this process's
    /// CPU, which is the Manager's).
    func stop() { enabled.store(false, ordering: .relaxed) }

    /// The worst figures since the last reset.
    var current: Worst { worst.withLock { $0 } }

    func processedTick(info: NIOEventLoopTickInfo) {
        guard enabled.load(ordering: .relaxed) else { return }
        let cpu = Self.threadCPUNanoseconds()
        let tick = Int64(info.endTime.uptimeNanoseconds) - Int64(info.startTime.uptimeNanoseconds)
        let gap = info.sleepTime.nanoseconds
        let (index, cpuBefore) = loops.withLock { loops in
            var state = loops[info.eventLoopID] ?? LoopState(index: loops.count)
            defer {
                state.cpuAtTickEnd = cpu
                loops[info.eventLoopID] = state
            }
            return (state.index, state.cpuAtTickEnd)
        }
        guard cpuBefore > 0 else { return }
        worst.withLock { w in
            let used = cpu - cpuBefore
            if tick > w.tick { (w.tick, w.tickTasks, w.tickCPU, w.tickLoop) = (tick, info.numberOfTasks, used, index) }
            if gap > w.gap { (w.gap, w.gapCPU, w.gapLoop) = (gap, used, index) }
            if used > w.busiest {
                (w.busiest, w.busiestLoop, w.busiestGap, w.busiestTick, w.busiestTasks) =
                    (used, index, gap, tick, info.numberOfTasks)
            }
        }
    }

    /// The calling thread's CPU time, nanoseconds.
    static func threadCPUNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
