import Foundation
import VEMCore
import VEMRules

/// `vem bench rules`: time per evaluation of typical trigger expressions over large synthetic snapshots.
/// Build with `swift build -c release` first; debug builds are many times slower.
public struct RulesBench: Sendable {
    /// Evaluations per expression and snapshot size.
    public var iterations = 50
    /// Snapshot sizes (numbers of clients).
    public var clients = [1_000, 10_000, 100_000]

    /// The expressions timed.
    public static let expressions = [
        "len([c for c in manager.clients if c.ram_free < 1000]) > 10",
        "sum(c.load for c in manager.clients) / max(1, len(manager.clients))",
        "max(manager.clients, key=lambda c: c.ram_free).name",
    ]

    /// A bench of `iterations` evaluations per expression on snapshots of `clients` clients.
    public init(iterations: Int = 50, clients: [Int] = [1_000, 10_000, 100_000]) {
        self.iterations = iterations
        self.clients = clients
    }

    /// One synthetic client, as the baseline loop reads it.
    struct Client {
        var name: String
        var ramFree: Int64
        var load: Double
    }

    /// The deterministic clients of a snapshot of `count`.
    static func clients(_ count: Int) -> [Client] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        return (0..<count).map { i in
            let ram = Int64(next() % 64_000)
            return Client(name: "c\(i)", ramFree: ram, load: Double(next() % 800) / 100)
        }
    }

    /// A deterministic snapshot: `count` clients with `ram_free` and `load` properties.
    public static func snapshot(clients count: Int) -> Snapshot {
        Snapshot(clients: snapshotObjects(clients(count)))
    }

    static func snapshotObjects(_ clients: [Client]) -> [SnapshotObject] {
        clients.enumerated().map { i, c in
            SnapshotObject(typeName: "client", attributes: [
                "name": .string(c.name), "role": .string("domU"), "host": .string("h\(i / 32)"), "group": .none,
                "ram_free": .int(c.ramFree), "load": .float(c.load),
            ])
        }
    }

    /// The same-run baseline: each expression's result computed by a plain Swift loop over the same data.
    @inline(never)
    static func baseline(_ index: Int, _ clients: [Client]) -> Value {
        switch index {
        case 0:
            var n = 0
            for c in clients where c.ramFree < 1000 { n += 1 }
            return .bool(n > 10)
        case 1:
            var sum = 0.0
            for c in clients { sum += c.load }
            return .float(sum / Double(max(1, clients.count)))
        default:
            guard var best = clients.first else { return .none }
            for c in clients.dropFirst() where c.ramFree > best.ramFree { best = c }
            return .string(best.name)
        }
    }

    /// Runs the bench and renders its figures: a table, or (`json`) a JSON array of rows.
    /// - Throws: When an expression does not compile or evaluate.
    public func run(json: Bool) throws -> String {
        // The limits are the default ones except the step budget: 100,000 clients need more than 100,000 steps.
        var limits = Limits()
        limits.maxSteps = 100_000_000
        let clock = ContinuousClock()
        var rows: [[String: Any]] = []
        var lines = [
            "clients   median ms    p99 ms  cold ms  baseline ms   ratio  cold ratio  result              expression"
        ]
        for count in clients {
            let data = Self.clients(count)
            let snap = Snapshot(clients: Self.snapshotObjects(data))
            let globals = snap.evalGlobals(recorder: CallRecorder())
            for (index, text) in Self.expressions.enumerated() {
                let program = try CompiledProgram(
                    compiling: SourceText(standalone: text), knownGlobals: Snapshot.evalGlobalNames)
                // Cold: each evaluation on a fresh `manager` object (as the Manager's first trigger of a pass sees
                // it), so the columns the fast paths read are built inside the timing.
                var coldTimes: [Double] = []
                for _ in 0..<max(1, min(iterations, 10)) {
                    let fresh = snap.evalGlobals(recorder: CallRecorder())
                    let start = clock.now
                    _ = try program.evaluate(globals: fresh, limits: limits)
                    coldTimes.append((clock.now - start).milliseconds)
                }
                // Warm: the same `manager` object every time (the later triggers of a pass).
                var times: [Double] = []
                var result = Value.none
                for _ in 0..<iterations {
                    let start = clock.now
                    result = try program.evaluate(globals: globals, limits: limits)
                    times.append((clock.now - start).milliseconds)
                }
                // The baseline, interleaved in the same run: a slow moment weighs on both.
                var baseTimes: [Double] = []
                var expected = Value.none
                for _ in 0..<iterations {
                    let start = clock.now
                    expected = Self.baseline(opaque(index), opaque(data))
                    baseTimes.append((clock.now - start).milliseconds)
                }
                guard expected.repr == result.repr else {
                    throw BenchError("\(text): \(result.repr), but the baseline loop computes \(expected.repr)")
                }
                let median = times.sorted()[times.count / 2]
                let p99 = percentile(times, 0.99)
                let baseMedian = baseTimes.sorted()[baseTimes.count / 2]
                let coldMedian = coldTimes.sorted()[coldTimes.count / 2]
                let ratio = baseMedian > 0 ? median / baseMedian : 0
                rows.append([
                    "clients": count, "expression": text, "median_ms": median, "p99_ms": p99,
                    "iterations": iterations, "result": result.jsonObject, "baseline_median_ms": baseMedian,
                    "ratio": ratio, "cold_median_ms": coldMedian,
                    "cold_ratio": baseMedian > 0 ? coldMedian / baseMedian : 0,
                ])
                let r = result.repr.padding(toLength: 18, withPad: " ", startingAt: 0)
                lines.append(
                    String(
                        format: "%7d %11.3f %9.3f %8.3f %12.4f %7.1f %11.1f  ", count, median, p99, coldMedian,
                        baseMedian, ratio, baseMedian > 0 ? coldMedian / baseMedian : 0) + r + "  " + text)
            }
        }
        guard json else { return lines.joined(separator: "\n") }
        let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// `value`, hidden from the optimizer (a benchmark's loop must not be folded away).
@inline(never) @_optimize(none)
func opaque<T>(_ value: T) -> T { value }
