import Foundation
import Synchronization
import VEMCore
import VEMPool

/// Shows a block of text again and again: redrawn in place on a terminal (a few times per second), or printed
/// as a new block every `every` seconds when standard output is a file or a pipe.
public final class LiveScreen: Sendable {
    /// Whether standard output is a terminal (redraw in place).
    public let interactive: Bool
    /// Seconds between two blocks when it is not.
    public let every: Double
    private let shown = Mutex((last: -Double.infinity, lines: 0))

    /// A screen for a terminal (`interactive`) or a file or pipe (a block every `every` seconds).
    public init(interactive: Bool, every: Double) {
        self.interactive = interactive
        self.every = every
    }

    /// Shows the block when it is time (or when `force`d); `block` is only rendered then.
    public func show(wall: Double, block: () -> String, force: Bool = false) {
        let period = interactive ? 0.25 : every
        let due = shown.withLock { s in
            guard force || wall - s.last >= period else { return false }
            s.last = wall
            return true
        }
        guard due else { return }
        let text = block()
        if interactive {
            var out = ""
            let previous = shown.withLock { $0.lines }
            if previous > 0 { out += "\u{1B}[\(previous)A\u{1B}[J" }
            out += text
            print(out, terminator: "")
            fflush(nil)
            shown.withLock { $0.lines = text.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) } }
        } else {
            print(text)
            fflush(nil)
        }
    }
}

/// The demo's live table.
enum DemoTable {
    static func render(_ sim: PoolSimulation, wall: Double, compression: Double) -> String {
        render(
            view: PoolView(reconciler: sim.reconciler, batch: sim.batch.snapshot()),
            inVMs: sim.hosts.hosts.reduce(0) { $0 + $1.usedCPUs }, total: sim.hosts.totalCPUs,
            counters: sim.reconciler.counters, decisions: sim.reconciler.decisions.suffix(3), wall: wall,
            elapsed: sim.now - sim.batch.origin)
    }

    static func render(
        view: PoolView, inVMs: Int, total: Int, counters k: PoolCounters, decisions: ArraySlice<PoolDecision>,
        wall: Double, elapsed: Int
    ) -> String {
        var rows = [["group", "share", "pending", "running", "booting", "active", "draining"]]
        for r in view.rows {
            rows.append([
                r.group, String(format: "%.0f%%", r.sharePercent), String(r.pendingJobs), String(r.runningJobs),
                String(r.booting), String(r.active), String(r.draining),
            ])
        }
        var out = String(format: "wall %5.1f s   simulated +%@ of the window\n", wall, formatSeconds(elapsed))
        out += TextTable(rows: rows).lines.joined(separator: "\n") + "\n"
        out += "pool: \(inVMs)/\(total) vCPUs in VMs; created \(k.created), destroyed \(k.destroyed), "
        out += "migrated \(k.migrated)\n"
        for d in decisions { out += "  " + String(d.description.prefix(110)) + "\n" }
        for _ in decisions.count..<3 { out += "\n" }
        return out
    }
}
