import Foundation
import VEMPool

/// Shows a block of text again and again: redrawn in place on a terminal (a few times per second), or printed
/// as a new block every `every` seconds when standard output is a file or a pipe.
final class LiveScreen {
    let interactive: Bool
    let every: Double
    private var lastShown = -Double.infinity
    private var linesShown = 0

    init(interactive: Bool, every: Double) {
        self.interactive = interactive
        self.every = every
    }

    /// Shows the block when it is time (or when `force`d); `block` is only rendered then.
    func show(wall: Double, block: () -> String, force: Bool = false) {
        let period = interactive ? 0.25 : every
        guard force || wall - lastShown >= period else { return }
        lastShown = wall
        let text = block()
        if interactive {
            var out = ""
            if linesShown > 0 { out += "\u{1B}[\(linesShown)A\u{1B}[J" }
            out += text
            print(out, terminator: "")
            fflush(nil)
            linesShown = text.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
        } else {
            print(text)
            fflush(nil)
        }
    }
}

/// The demo's live table.
enum DemoTable {
    static func render(_ sim: PoolSimulation, wall: Double, compression: Double) -> String {
        let batch = sim.batch.snapshot()
        let view = PoolView(reconciler: sim.reconciler, batch: batch)
        var rows = [["group", "share", "pending", "running", "booting", "active", "draining"]]
        for r in view.rows {
            rows.append([
                r.group, String(format: "%.0f%%", r.sharePercent), String(r.pendingJobs), String(r.runningJobs),
                String(r.booting), String(r.active), String(r.draining),
            ])
        }
        let inVMs = sim.hosts.hosts.reduce(0) { $0 + $1.usedCPUs }
        let total = sim.hosts.totalCPUs
        let k = sim.reconciler.counters
        var out = String(
            format: "wall %5.1f s   simulated +%@ of the window\n", wall, formatSeconds(sim.now - sim.batch.origin))
        out += Table(rows: rows).lines.joined(separator: "\n") + "\n"
        out += "pool: \(inVMs)/\(total) vCPUs in VMs; created \(k.created), destroyed \(k.destroyed), "
        out += "migrated \(k.migrated)\n"
        let recent = sim.reconciler.decisions.suffix(3)
        for d in recent { out += "  " + String(d.description.prefix(110)) + "\n" }
        for _ in recent.count..<3 { out += "\n" }
        return out
    }
}
