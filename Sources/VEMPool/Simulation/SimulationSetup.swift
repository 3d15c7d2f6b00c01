import Foundation
import VEMBatch
import VEMCore
import VEMPolicy

/// The defaults of `vem simulate` (and of the demo's window), chosen on the LCG trace: see the README's
/// "Policy" section for the figures they give.
public enum SimulationDefaults {
    public static let window = "3d:12h"
    public static let hosts = 8
    public static let cpusPerHost = 8
    public static let vmCPUs = 1
    public static let sample = 20
    public static let maxBooting = 8
    public static let idleTimeout = "5m"
    public static let minLifetime = "10m"
    public static let grace = "15m"

    /// `90`, `90s`, `5m`, `1h30m`, `2d` → seconds; `nil` when malformed.
    public static func parseDuration(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        if let n = Int(t) { return n >= 0 ? n : nil }
        var total = 0
        var number = ""
        for c in t {
            if c.isASCII, c.isNumber {
                number.append(c)
                continue
            }
            guard let n = Int(number) else { return nil }
            let unit: Int
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: return nil
            }
            let (product, overflow) = n.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            total += product
            number = ""
        }
        guard number.isEmpty else { return nil }
        return total
    }

    /// `START:DURATION` → a replay window.
    public static func parseWindow(_ text: String) throws(PoolError) -> ReplayWindow {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = parseDuration(String(parts[0])),
            let duration = parseDuration(String(parts[1])), duration > 0
        else {
            throw PoolError(.invalidInput, "--window '\(text)' is not START:DURATION (like 3d:12h or 259200:43200)")
        }
        return ReplayWindow(start: start, duration: duration)
    }
}

/// A simulation's inputs, read and checked: the workload from the trace, the window, the pool's configuration.
public struct SimulationSetup: Sendable {
    public var workload: Workload
    public var window: ReplayWindow
    public var configuration: PoolSimulation.Configuration
    public var traceName: String
    public var sample: Int

    public init(
        trace path: String, groups: Int, names: String?, groupBy: TraceGroupRule.Key = .group, window: String,
        hosts: Int, cpusPerHost: Int, vmCPUs: Int, sample: Int, bootDelay: String, tick: String, maxBooting: Int,
        idleTimeout: String, minLifetime: String, grace: String = SimulationDefaults.grace, placement: String,
        keepIdle: Bool = true
    ) throws {
        let trace = try SWFReader.read(path: path, name: (path as NSString).lastPathComponent)
        let rule = TraceGroupRule(
            topGroups: groups,
            names: names.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
            key: groupBy)
        workload = try Workload(trace: trace, rule: rule, sample: sample, vmCPUs: vmCPUs)
        self.window = try SimulationDefaults.parseWindow(window)
        let policy = PolicyConfiguration(
            maxBootingSiteWide: maxBooting, maxBootingPerHost: max(1, (maxBooting + 1) / 2),
            minLifetime: SimulationDefaults.parseDuration(minLifetime) ?? 600,
            idleTimeout: SimulationDefaults.parseDuration(idleTimeout) ?? 300,
            starvationGrace: grace == "off"
                ? PoolSimulation.preemptionOff
                : SimulationDefaults.parseDuration(grace) ?? PoolSimulation.preemptionOff,
            placement: PolicyConfiguration.Placement(rawValue: placement) ?? .pack, keepIdleVMs: keepIdle)
        configuration = PoolSimulation.Configuration(
            hosts: hosts, cpusPerHost: cpusPerHost, memoryPerHostMiB: cpusPerHost * 2048,
            bootDelay: SimulationDefaults.parseDuration(bootDelay) ?? 60,
            tick: max(1, SimulationDefaults.parseDuration(tick) ?? 60), policy: policy)
        traceName = trace.name
        self.sample = sample
    }

    public func jobs(in window: ReplayWindow) -> Int { workload.jobs.count { window.contains($0.submitTime) } }

    public var summary: [String: String] {
        [
            "trace": traceName, "window_start": String(window.start), "window_duration": String(window.duration ?? 0),
            "jobs": String(jobs(in: window)), "sample": String(sample), "hosts": String(configuration.hosts),
            "cpus_per_host": String(configuration.cpusPerHost), "boot_delay": String(configuration.bootDelay),
            "tick": String(configuration.tick), "max_booting": String(configuration.policy.maxBootingSiteWide),
            "idle_timeout": String(configuration.policy.idleTimeout),
            "starvation_grace": String(configuration.policy.starvationGrace),
            "min_lifetime": String(configuration.policy.minLifetime),
            "groups": workload.groups.map { "\($0.name)=\(Int($0.share))" }.joined(separator: ","),
            "group_rule": ruleText,
        ]
    }

    public var ruleText: String {
        let rule = workload.map.rule
        return "top \(rule.topGroups) trace \(rule.key.rawValue)s by CPU time, the rest in 'other'"
    }

    /// The header: the trace, the groups and the pool; `window` is nil for a sweep.
    public func text(window: ReplayWindow?) -> String {
        var out = "trace     \(traceName)"
        if let window {
            out += ": \(jobs(in: window)) jobs submitted in "
            out += "[\(formatSeconds(window.start)), +\(formatSeconds(window.duration ?? 0)))"
        }
        out += sample > 1 ? ", one job in \(sample) kept\n" : "\n"
        let groupText = workload.map.groups.map { (g: MappedGroup) -> String in
            let ids: String =
                g.traceGroups.count > 3
                ? "\(g.traceGroups.count) trace \(workload.map.rule.key.rawValue)s"
                : "trace \(workload.map.rule.key.rawValue) " + g.traceGroups.map(String.init).joined(separator: ",")
            return "\(g.name) (\(ids))"
        }.joined(separator: ", ")
        out += "groups    \(ruleText): \(groupText)\n"
        out += "shares    " + workload.groups.map { "\($0.name) \(Int($0.share))" }.joined(separator: ", ")
        out += "  (% of the trace's CPU time)\n"
        let c = configuration
        out += "pool      \(c.hosts) hosts × \(c.cpusPerHost) vCPUs = \(c.hosts * c.cpusPerHost) vCPUs; "
        out += "VMs of \(workload.groups.first?.vmCPUs ?? 1) vCPU; boot \(formatSeconds(c.bootDelay)); "
        out += "planner every \(formatSeconds(c.tick)); ≤ \(c.policy.maxBootingSiteWide) booting; "
        out += c.policy.keepIdleVMs
            ? "idle VMs kept until wanted; min life \(formatSeconds(c.policy.minLifetime)) before a busy VM's drain; "
            : "idle \(formatSeconds(c.policy.idleTimeout)) / min life \(formatSeconds(c.policy.minLifetime)) "
                + "before a drain; "
        let g = c.policy.starvationGrace
        out += g >= PoolSimulation.preemptionOff ? "no preemption\n\n" : "preemption after \(formatSeconds(g))\n\n"
        return out
    }
}

/// The side-by-side table of a ``Comparison``.
public enum ComparisonText {
    public static func render(_ c: Comparison, shares: [PoolGroup]) -> String {
        let hasIdeal = c.ideal != nil
        var rows: [[String]] = [
            ["", "", "", "static partitions", "", "", "", "dynamic pool", "", "", ""]
                + (hasIdeal ? ["ideal", "", "", ""] : []),
            ["group", "share", "jobs", "mean wait", "p95", "bsld", "nodes", "mean wait", "p95", "bsld", "VMs"]
                + (hasIdeal ? ["mean wait", "p95", "bsld", "guarantee"] : []),
        ]
        let share = Dictionary(uniqueKeysWithValues: shares.map { ($0.name, Int($0.share)) })
        let check = Dictionary(uniqueKeysWithValues: c.guarantee.map { ($0.group, $0) })
        func cells(_ l: LayoutReport.Line?, nodes: Bool) -> [String] {
            guard let l else { return nodes ? ["-", "-", "-", "-"] : ["-", "-", "-"] }
            let base = [
                formatSeconds(Int(l.meanWait.rounded())), formatSeconds(l.p95Wait),
                String(format: "%.1f", l.meanBoundedSlowdown),
            ]
            return nodes ? base + [String(l.peakNodes)] : base
        }
        for s in c.staticLayout.groups + [c.staticLayout.total] {
            let g = s.group
            let d = g == "*" ? c.dynamic.total : c.dynamic[group: g]
            let i = g == "*" ? c.ideal?.total : c.ideal?[group: g]
            var row = [g == "*" ? "all" : g, share[g].map { "\($0)%" } ?? "", String(s.jobs)]
            row += cells(s, nodes: true) + cells(d, nodes: true)
            if hasIdeal {
                let verdict: String
                if g == "*" {
                    verdict = c.guaranteeHolds ? "holds" : "BROKEN"
                } else if let k = check[g] {
                    let figures = "\(k.jobs) jobs, \(formatSeconds(Int(k.poolMeanWait.rounded())))"
                    verdict = !k.withinShare ? "no job within share" : (k.holds ? "holds" : "BROKEN") + " (\(figures))"
                } else {
                    verdict = ""
                }
                row += cells(i, nodes: false) + [verdict]
            }
            rows.append(row)
        }
        var out = TextTable(rows: rows).lines.joined(separator: "\n") + "\n\n"
        out += "waits     every job submitted in the window counts; one not started by the horizon "
        out += "(\(formatSeconds(c.dynamic.elapsed)) after the window's start) with its wait so far\n"
        out += "bsld      mean bounded slowdown, max(1, (wait + run) / max(run, 10 s))\n"
        if hasIdeal {
            let allowance = c.guarantee.first?.allowance ?? 0
            out += "guarantee jobs sent while their group's demand was within its share (in its partition, which "
            out += "starts them at once, and in the pool) must not wait longer on average in the pool than there, plus "
            out += "\(formatSeconds(allowance)) (a planner step and a boot; with --grace, also the grace and two planner "
            out += "steps to take borrowed room back); "
            out += "(N jobs, their mean wait in the pool)\n"
            let idealBroken = c.idealGuarantee.filter { !$0.holds }.map(\.group)
            out += "          the ideal (fair share, no preemption, no allowance) "
            out += idealBroken.isEmpty ? "keeps it\n" : "breaks it for " + idealBroken.joined(separator: ",") + "\n"
        }
        func notStarted(_ r: LayoutReport) -> String {
            "\(r.total.pending)" + (r.total.neverRuns > 0 ? " (\(r.total.neverRuns) never can: too wide)" : "")
        }
        var unstarted = "static \(notStarted(c.staticLayout)), pool \(notStarted(c.dynamic))"
        if let i = c.ideal { unstarted += ", ideal \(notStarted(i))" }
        out += "unstarted at the horizon: \(unstarted)"
        out += c.poolLeftBehind > 0 ? "; \(c.poolLeftBehind) of the pool's were finished by the ideal\n" : "\n"
        let k = c.dynamic.counters
        out += "pool      VMs created \(k.created), destroyed \(k.destroyed), migrated \(k.migrated), "
        out += "drained \(k.drained); failed operations \(k.failed); jobs lost \(k.busyDestroyed) "
        out += "(busy VMs destroyed; \(c.dynamic.requeuedJobs) jobs requeued, \(c.dynamic.lostCPUSeconds / 3600) "
        out += "CPU-hours of work lost)\n"
        out += String(
            format: "use       jobs used %.1f %% (pool), %.1f %% (static) of %d vCPUs; the pool kept %.1f %% of "
                + "its vCPU time in VMs\n", c.dynamic.utilisation * 100, c.staticLayout.utilisation * 100,
            c.dynamic.totalCPUs, c.dynamic.occupancy * 100)
        let dm = c.dynamic.total.meanWait
        let sm = c.staticLayout.total.meanWait
        out += "verdict   mean wait \(formatSeconds(Int(dm.rounded()))) (pool) vs "
        out += "\(formatSeconds(Int(sm.rounded()))) (static)"
        if dm > 0, sm > 0 {
            out += String(
                format: ": %.2f× %@", dm < sm ? sm / dm : dm / sm,
                dm <= sm ? "shorter with the pool" : "longer with the pool")
        } else {
            out += dm <= sm ? ": no longer with the pool" : ": longer with the pool"
        }
        if let i = c.ideal?.total.meanWait {
            out += "; ideal \(formatSeconds(Int(i.rounded())))"
            if i > 0 { out += String(format: " (pool/ideal %.2f)", dm / i) }
        }
        return out + "\n"
    }
}

/// The one-screen summary of a ``Sweep``.
public enum SweepText {
    public static func render(_ sweep: Sweep) -> String {
        func w(_ v: Double) -> String { formatSeconds(Int(v.rounded())) }
        var rows: [[String]] = [
            ["", "", "mean wait", "", "", "p95 wait", "", "", "bsld", "", "", "unstarted", "", "", "guarantee", ""],
            [
                "window", "jobs", "static", "pool", "ideal", "static", "pool", "ideal", "static", "pool", "ideal",
                "static", "pool", "ideal", "pool", "ideal",
            ],
        ]
        for r in sweep.rows {
            func unstarted(_ pending: Double, _ never: Double) -> String {
                String(Int(pending)) + (never > 0 ? " (\(Int(never)) ∞)" : "")
            }
            rows.append([
                "\(formatSeconds(r.window.start)):\(formatSeconds(r.window.duration ?? 0))", String(r.jobs),
                w(r.meanWait.fixed), w(r.meanWait.pool), w(r.meanWait.ideal), w(r.p95Wait.fixed), w(r.p95Wait.pool),
                w(r.p95Wait.ideal), String(format: "%.1f", r.boundedSlowdown.fixed),
                String(format: "%.1f", r.boundedSlowdown.pool), String(format: "%.1f", r.boundedSlowdown.ideal),
                unstarted(r.pending.fixed, r.neverRuns.fixed), unstarted(r.pending.pool, r.neverRuns.pool),
                unstarted(r.pending.ideal, r.neverRuns.ideal),
                r.guaranteeBroken.isEmpty
                    ? "holds (\(r.withinShare.count) groups)"
                    : "BROKEN: " + r.guaranteeBroken.joined(separator: ","),
                r.idealBroken.isEmpty ? "holds" : "BROKEN: " + r.idealBroken.joined(separator: ","),
            ])
        }
        var out = TextTable(rows: rows).lines.joined(separator: "\n") + "\n\n"
        let m = sweep.meanWait
        out += "over \(sweep.rows.count) windows: mean wait static \(w(m.fixed)), pool \(w(m.pool)), "
        out += "ideal \(w(m.ideal)); "
        out += String(format: "static/pool %.2f×, pool/ideal %.2f×\n", sweep.poolGain, sweep.poolOverIdeal)
        out += "pool no worse than static in \(sweep.poolNoWorseThanStatic) of \(sweep.rows.count) windows; "
        out += "guarantee held in \(sweep.guaranteeHeld) of \(sweep.rows.count) "
        out += "(the ideal, fair share without preemption: \(sweep.idealGuaranteeHeld)); "
        let behind = sweep.rows.reduce(0) { $0 + $1.poolLeftBehind }
        out += "jobs the ideal finished that the pool had not started: \(behind)\n"
        let requeued = sweep.rows.reduce(0) { $0 + $1.requeuedJobs }
        let lost = sweep.rows.reduce(0) { $0 + $1.lostCPUSeconds }
        out += "preemption: \(requeued) jobs killed and requeued, \(lost / 3600) CPU-hours of work lost\n"
        out += "unstarted: jobs not started at the horizon, counted with their wait so far; (N ∞): N of them too "
        out += "wide ever to run there\n"
        return out
    }
}

/// `42s`, `7m03s`, `5h12m`, `3d04h`.
/// `42s`, `7m03s`, `5h12m`, `3d04h`.
public func formatSeconds(_ seconds: Int) -> String {
    let s = max(0, seconds)
    let d = s / 86_400
    let h = s % 86_400 / 3600
    let m = s % 3600 / 60
    let r = s % 60
    if d > 0 { return h > 0 ? "\(d)d\(h)h" : "\(d)d" }
    if h > 0 { return m > 0 ? "\(h)h\(m)m" : "\(h)h" }
    if m > 0 { return r > 0 ? "\(m)m\(r)s" : "\(m)m" }
    return "\(r)s"
}
