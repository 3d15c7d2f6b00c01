import Foundation
import VEMBatch
import VEMCore
import VEMPolicy

/// The defaults of `vem simulate` (and of the demo's window), chosen on the LCG trace: see the README's
/// "Policy" section for the figures they give.
public enum SimulationDefaults {
    /// The default of `--window`.
    public static let window = "3d:12h"
    /// The default of `--hosts`.
    public static let hosts = 8
    /// The default of `--cpusPerHost`.
    public static let cpusPerHost = 8
    /// The default of `--vmCPUs`.
    public static let vmCPUs = 1
    /// The default of `--sample`.
    public static let sample = 20
    /// The default of `--maxBooting`.
    public static let maxBooting = 8
    /// The default of `--idleTimeout`.
    public static let idleTimeout = "5m"
    /// The default of `--minLifetime`.
    public static let minLifetime = "10m"

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
    /// - Throws: ``PoolError`` `.invalidInput` when it is not `START:DURATION`.
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
    /// See the initializer.
    public var workload: Workload
    /// See the initializer.
    public var window: ReplayWindow
    /// See the initializer.
    public var configuration: PoolSimulation.Configuration
    /// See the initializer.
    public var traceName: String
    /// See the initializer.
    public var sample: Int

    /// Reads the trace and checks the options of `vem simulate` (durations as ``SimulationDefaults/parseDuration(_:)``
    /// reads them).
    /// - Throws: ``VEMBatch/BatchError`` for an unreadable trace, ``PoolError`` for a bad window.
    public init(
        trace path: String, groups: Int, names: String?, window: String, hosts: Int, cpusPerHost: Int, vmCPUs: Int,
        sample: Int, bootDelay: String, tick: String, maxBooting: Int, idleTimeout: String, minLifetime: String,
        placement: String
    ) throws {
        let trace = try SWFReader.read(path: path, name: (path as NSString).lastPathComponent)
        let rule = TraceGroupRule(
            topGroups: groups,
            names: names.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [])
        workload = try Workload(trace: trace, rule: rule, sample: sample, vmCPUs: vmCPUs)
        self.window = try SimulationDefaults.parseWindow(window)
        let policy = PolicyConfiguration(
            maxBootingSiteWide: maxBooting, maxBootingPerHost: max(1, (maxBooting + 1) / 2),
            minLifetime: SimulationDefaults.parseDuration(minLifetime) ?? 600,
            idleTimeout: SimulationDefaults.parseDuration(idleTimeout) ?? 300,
            starvationGrace: PoolSimulation.preemptionOff,
            placement: PolicyConfiguration.Placement(rawValue: placement) ?? .pack)
        configuration = PoolSimulation.Configuration(
            hosts: hosts, cpusPerHost: cpusPerHost, memoryPerHostMiB: cpusPerHost * 2048,
            bootDelay: SimulationDefaults.parseDuration(bootDelay) ?? 60,
            tick: max(1, SimulationDefaults.parseDuration(tick) ?? 60), policy: policy)
        traceName = trace.name
        self.sample = sample
    }

    /// Jobs submitted in the window.
    public var jobsInWindow: Int { workload.jobs.filter { window.contains($0.submitTime) }.count }

    /// The setup as JSON fields.
    public var summary: [String: String] {
        [
            "trace": traceName, "window_start": String(window.start), "window_duration": String(window.duration ?? 0),
            "jobs": String(jobsInWindow), "sample": String(sample), "hosts": String(configuration.hosts),
            "cpus_per_host": String(configuration.cpusPerHost), "boot_delay": String(configuration.bootDelay),
            "tick": String(configuration.tick), "max_booting": String(configuration.policy.maxBootingSiteWide),
            "groups": workload.groups.map { "\($0.name)=\(Int($0.share))" }.joined(separator: ","),
            "group_rule": "top \(workload.map.rule.topGroups) trace groups by CPU time, the rest in 'other'",
        ]
    }

    /// The setup for people.
    public var text: String {
        var out = "trace     \(traceName): \(jobsInWindow) jobs submitted in "
        out += "[\(formatSeconds(window.start)), +\(formatSeconds(window.duration ?? 0)))"
        out += sample > 1 ? ", one job in \(sample) kept\n" : "\n"
        let groupText = workload.map.groups.map { g in
            let ids =
                g.traceGroups.count > 3
                ? "\(g.traceGroups.count) trace groups"
                : "trace group "
                    + g.traceGroups.map(String.init).joined(separator: ",")
            return "\(g.name) (\(ids))"
        }.joined(separator: ", ")
        out += "groups    top \(workload.map.rule.topGroups) by CPU time + other: \(groupText)\n"
        out += "shares    " + workload.groups.map { "\($0.name) \(Int($0.share))" }.joined(separator: ", ")
        out += "  (% of the trace's CPU time)\n"
        let c = configuration
        out += "pool      \(c.hosts) hosts × \(c.cpusPerHost) vCPUs = \(c.hosts * c.cpusPerHost) vCPUs; "
        out += "VMs of \(workload.groups.first?.vmCPUs ?? 1) vCPU; boot \(formatSeconds(c.bootDelay)); "
        out += "planner every \(formatSeconds(c.tick)); ≤ \(c.policy.maxBootingSiteWide) booting; "
        out += "idle \(formatSeconds(c.policy.idleTimeout)) / min life \(formatSeconds(c.policy.minLifetime)) "
        out += "before a drain\n\n"
        return out
    }
}

/// The side-by-side table of a ``Comparison``.
public enum ComparisonText {
    /// The table and the verdict lines.
    public static func render(_ c: Comparison, shares: [PoolGroup]) -> String {
        var rows: [[String]] = [
            ["", "", "", "dynamic pool", "", "", "static partitions", "", ""],
            ["group", "share", "jobs", "mean wait", "p95 wait", "peak VMs", "mean wait", "p95 wait", "nodes"],
        ]
        let share = Dictionary(uniqueKeysWithValues: shares.map { ($0.name, Int($0.share)) })
        for d in c.dynamic.groups + [c.dynamic.total] {
            let s = d.group == "*" ? c.staticLayout.total : c.staticLayout[group: d.group]
            rows.append([
                d.group == "*" ? "all" : d.group, share[d.group].map { "\($0)%" } ?? "", String(d.jobs),
                formatSeconds(Int(d.meanWait.rounded())), formatSeconds(d.p95Wait), String(d.peakNodes),
                s.map { formatSeconds(Int($0.meanWait.rounded())) } ?? "-", s.map { formatSeconds($0.p95Wait) } ?? "-",
                s.map { String($0.peakNodes) } ?? "-",
            ])
        }
        var out = TextTable(rows: rows).lines.joined(separator: "\n") + "\n\n"
        let k = c.dynamic.counters
        out += "dynamic pool       VMs created \(k.created), destroyed \(k.destroyed), migrated \(k.migrated), "
        out += "drained \(k.drained); failed operations \(k.failed); jobs lost \(k.busyDestroyed)\n"
        out += String(
            format: "utilisation        jobs used %.1f %% (dynamic) and %.1f %% (static) of %d vCPUs over %@\n",
            c.dynamic.utilisation * 100, c.staticLayout.utilisation * 100, c.dynamic.totalCPUs,
            formatSeconds(c.dynamic.elapsed))
        let busy =
            c.dynamic.vmCPUSeconds > 0
            ? Double(c.dynamic.total.cpuSecondsUsed) / Double(c.dynamic.vmCPUSeconds) * 100 : 0
        out += String(
            format: "VM time            the pool kept %.1f %% of its vCPU time in VMs, %.1f %% of it running jobs "
                + "(static: 100 %%, %.1f %%)\n", c.dynamic.occupancy * 100, busy, c.staticLayout.utilisation * 100)
        let pendingD = c.dynamic.total.pending
        let pendingS = c.staticLayout.total.pending
        if pendingD > 0 || pendingS > 0 || !c.dynamicFinished {
            out += "unfinished         dynamic \(pendingD) job(s) waiting, static \(pendingS)\n"
        }
        let dm = c.dynamic.total.meanWait
        let sm = c.staticLayout.total.meanWait
        if sm > 0, dm > 0 {
            out += String(
                format: "verdict            mean wait %@ (dynamic) vs %@ (static): %.1f× %@\n",
                formatSeconds(Int(dm.rounded())), formatSeconds(Int(sm.rounded())),
                dm < sm ? sm / dm : dm / sm, dm <= sm ? "shorter with the pool" : "longer with the pool")
        }
        return out
    }
}

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
