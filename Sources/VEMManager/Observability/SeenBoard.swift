import Synchronization

/// What the dashboard's browsers last reported they rendered (`GET /dashboard/seen`), and the requests waiting
/// for a report to reach a count (`?wait_updates=N&wait_vms=M`): a test waits for the page's update as an event
/// instead of polling the route.
final class SeenBoard: Sendable {
    private struct Waiter {
        var updates: Int
        var vms: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var report = ObservabilityRoutes.SeenReport(updates: 0, vms: nil, reports: 0)
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// The last report.
    var report: ObservabilityRoutes.SeenReport { state.withLock { $0.report } }

    /// A browser's report: it applied `updates` section updates and shows `vms` VMs. Wakes the waiters it satisfies.
    func record(updates: Int, vms: Int?) {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            (s.report.updates, s.report.vms) = (updates, vms)
            s.report.reports += 1
            let due = s.waiters.filter { Self.holds(s.report, $0.value) }
            for id in due.keys { s.waiters[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once a report shows at least `updates` updates and `vms` VMs, or when `timeout` has passed (a hang
    /// guard), with the report then.
    func wait(updates: Int, vms: Int, timeout: Duration) async -> ObservabilityRoutes.SeenReport {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.until(updates: updates, vms: vms) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return report
    }

    private func until(updates: Int, vms: Int) async {
        let id = state.withLock { s -> Int in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    let waiter = Waiter(updates: updates, vms: vms, continuation: c)
                    if Self.holds(s.report, waiter) || Task.isCancelled { return true }
                    s.waiters[id] = waiter
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
        }
    }

    private static func holds(_ report: ObservabilityRoutes.SeenReport, _ waiter: Waiter) -> Bool {
        report.updates >= waiter.updates && (report.vms ?? 0) >= waiter.vms
    }
}
