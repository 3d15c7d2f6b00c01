import Foundation
import VEMBatch

/// What `vem simulate` runs: one window, or a sweep of windows replayed on every core, each the three layouts
/// side by side (``Comparison``), with the wall time it took and the JSON form of both.
public enum SimulationRun {
    /// One window of `setup`.
    /// - Throws: ``PoolError`` when the replay fails.
    public static func single(_ setup: SimulationSetup, limit: Int) throws(PoolError) -> Comparison {
        try Comparison(
            jobs: setup.workload.jobs, groups: setup.workload.groups, window: setup.window,
            configuration: setup.configuration, limit: limit)
    }

    /// `count` windows of `days` days spread over the trace, replayed concurrently (they are independent).
    /// - Throws: ``PoolError`` for the first window whose replay failed.
    public static func sweep(_ setup: SimulationSetup, count: Int, days: Int, limit: Int) throws(PoolError) -> Sweep {
        let windows = Sweep.windows(jobs: setup.workload.jobs, count: count, duration: days * 86_400)
        let results = Results(count: windows.count)
        let (jobs, groups, configuration) = (setup.workload.jobs, setup.workload.groups, setup.configuration)
        DispatchQueue.concurrentPerform(iterations: windows.count) { i in
            results.set(
                i,
                Result { () throws(PoolError) -> Sweep.Row in
                    let c = try Comparison(
                        jobs: jobs, groups: groups, window: windows[i], configuration: configuration, limit: limit)
                    return Sweep.Row(window: windows[i], comparison: c)
                })
        }
        var rows: [Sweep.Row] = []
        for result in results.values { rows.append(try result.get()) }
        return Sweep(rows: rows)
    }

    /// What `vem simulate` prints: one window of `setup` (or a sweep of `sweep` windows of `days` days) as text
    /// with the wall time since `started`, or as JSON; ends with a newline.
    /// - Throws: ``PoolError`` when a replay fails.
    public static func report(
        _ setup: SimulationSetup, sweep count: Int?, days: Int, limit: Int, json: Bool,
        started: ContinuousClock.Instant
    ) throws -> String {
        func seconds() -> Double { (ContinuousClock.now - started) / .seconds(1) }
        func wall(_ seconds: Double) -> String { String(format: "simulated in %.2f s of wall time\n", seconds) }
        if let count {
            let sweep = try self.sweep(setup, count: count, days: days, limit: limit)
            let s = seconds()
            if json { return try self.json(setup: setup, sweep: sweep, wallSeconds: s) + "\n" }
            return setup.text(window: nil) + SweepText.render(sweep) + wall(s)
        }
        let comparison = try single(setup, limit: limit)
        let s = seconds()
        if json { return try self.json(setup: setup, comparison: comparison, wallSeconds: s) + "\n" }
        return setup.text(window: setup.window) + ComparisonText.render(comparison, shares: setup.workload.groups)
            + wall(s)
    }

    /// The JSON `vem simulate --json` prints for one window or a sweep.
    public static func json(setup: SimulationSetup, comparison: Comparison? = nil, sweep: Sweep? = nil, wallSeconds: Double)
        throws -> String
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data =
            if let sweep {
                try encoder.encode(SweepJSON(setup: setup.summary, sweep: sweep, wallSeconds: wallSeconds))
            } else {
                try encoder.encode(
                    SimulationJSON(setup: setup.summary, comparison: comparison, wallSeconds: wallSeconds))
            }
        return String(decoding: data, as: UTF8.self)
    }
}

private struct SimulationJSON: Encodable {
    var setup: [String: String]
    var comparison: Comparison?
    var wallSeconds: Double
}

private struct SweepJSON: Encodable {
    var setup: [String: String]
    var sweep: Sweep
    var wallSeconds: Double
}

/// One slot per window, filled from several threads.
private final class Results: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var slots: [Result<Sweep.Row, PoolError>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: Result<Sweep.Row, PoolError>) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }

    var values: [Result<Sweep.Row, PoolError>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0 ?? .failure(PoolError(.planner, "a window was not replayed")) }
    }
}
