import ArgumentParser
import Foundation
import VEMCore
import VEMRules

/// `vem bench rules`: time per evaluation of typical trigger expressions over large synthetic snapshots.
struct BenchRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Time trigger expressions over synthetic snapshots of 1,000 / 10,000 / 100,000 clients.",
        discussion: "Build with `swift build -c release` first; debug builds are many times slower."
    )

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: "Evaluations per expression and snapshot size.")
    var iterations = 50

    @Option(parsing: .upToNextOption, help: "Snapshot sizes (numbers of clients).")
    var clients: [Int] = [1_000, 10_000, 100_000]

    static let expressions = [
        "len([c for c in manager.clients if c.ram_free < 1000]) > 10",
        "sum(c.load for c in manager.clients) / max(1, len(manager.clients))",
        "max(manager.clients, key=lambda c: c.ram_free).name",
    ]

    func validate() throws {
        if iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if clients.contains(where: { $0 < 0 }) { throw ValidationError("--clients must not be negative") }
    }

    /// A deterministic snapshot: `count` clients with `ram_free` and `load` properties.
    static func snapshot(clients count: Int) -> Snapshot {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let clients = (0..<count).map { i in
            SnapshotObject(typeName: "client", attributes: [
                "name": .string("c\(i)"), "role": .string("domU"), "host": .string("h\(i / 32)"), "group": .none,
                "ram_free": .int(Int64(next() % 64_000)), "load": .float(Double(next() % 800) / 100),
            ])
        }
        return Snapshot(clients: clients)
    }

    func run() throws {
        // The limits are the default ones except the step budget: 100,000 clients need more than 100,000 steps.
        var limits = Limits()
        limits.maxSteps = 100_000_000
        let clock = ContinuousClock()
        var rows: [[String: Any]] = []
        if !json {
            print("clients   median ms    p99 ms  result              expression")
        }
        for count in clients {
            let snap = Self.snapshot(clients: count)
            let globals = snap.evalGlobals(recorder: CallRecorder())
            for text in Self.expressions {
                let program = try CompiledProgram(compiling: SourceText(standalone: text),
                                                  knownGlobals: Snapshot.evalGlobalNames)
                var times: [Double] = []
                var result = Value.none
                for _ in 0..<iterations {
                    let start = clock.now
                    result = try program.evaluate(globals: globals, limits: limits)
                    let d = clock.now - start
                    times.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15)
                }
                times.sort()
                let median = times[times.count / 2]
                let p99 = times[min(times.count - 1, Int((Double(times.count) * 0.99).rounded(.up)) - 1)]
                if json {
                    rows.append(["clients": count, "expression": text, "median_ms": median, "p99_ms": p99,
                                 "iterations": iterations, "result": result.jsonObject])
                } else {
                    let r = result.repr.padding(toLength: 18, withPad: " ", startingAt: 0)
                    print(String(format: "%7d %11.3f %9.3f  ", count, median, p99) + r + "  " + text)
                }
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
