import VEMConfig
import VEMCore
import VEMPolicy
import VEMPool
import VEMSite

/// The demo's site configuration: the INI text a real site would write for the Manager (`[manager]` settings
/// and one `[group:…]` per group), compiled through ``VEMSite/Site/load(_:globals:)`` like any site. The
/// Manager's triggers are its defaults: `vem.poll` (a property round every `poll_interval`) and
/// `vem.rebalance` (`policy.rebalance()` on updates and every `rebalance_interval`), in trace seconds.
public struct DemoSite: Sendable {
    /// The groups (shares are written as whole percentages).
    public var groups: [PoolGroup]
    /// The planner's knobs, written as `[manager]` keys.
    public var policy: PolicyConfiguration
    /// Seconds between two property rounds (`poll_interval`).
    public var pollInterval: Int
    /// Seconds between two periodic rebalances (`rebalance_interval`).
    public var rebalanceInterval: Int
    /// Where a live migration reaches a host: a template with `{host}` (`migration_uri`); nil: no migration.
    public var migrationURI: String?

    /// The name diagnostics give the embedded file.
    public static let sourceName = "vem-demo-site.ini"

    /// Creates the configuration.
    public init(
        groups: [PoolGroup], policy: PolicyConfiguration, pollInterval: Int = 30, rebalanceInterval: Int = 60,
        migrationURI: String? = nil
    ) {
        self.groups = groups
        self.policy = policy
        self.pollInterval = pollInterval
        self.rebalanceInterval = rebalanceInterval
        self.migrationURI = migrationURI
    }

    /// The longest `starvation_grace` a site may write (VEMConfig's limit on durations): the demo's way of
    /// keeping preemption off, since the replay batch cannot kill a running job.
    public static let longestGrace = 7 * 86_400

    /// The INI text.
    public var ini: String {
        var lines = [
            "# The site of `vem demo`: the Manager's settings and the groups; triggers are the Manager's defaults.",
            "[manager]",
            "max_booting = \(policy.maxBootingSiteWide)",
            "placement = \(policy.placement.rawValue)",
            "starvation_grace = \(min(policy.starvationGrace, Self.longestGrace))s",
        ]
        lines += [
            "",
            "# Until the Manager's default triggers land: the same two, written out.",
            "[vem.poll]",
            "expr = { True }",
            "cmd = { sender.send_get_property() }",
            "ticks = \(pollInterval)",
            "",
            "[vem.rebalance]",
            "expr = { True }",
            "cmd = { policy.rebalance() }",
            "ticks = \(rebalanceInterval)",
            "on_update_check = yes",
        ]
        for g in groups {
            lines += [
                "", "[group:\(g.name)]",
                "share = \(Self.percent(g.share))",
                "vm_vcpus = \(g.vmCPUs)",
                "vm_memory_mib = \(g.vmMemoryMiB)",
            ]
            if g.minVMs > 0 { lines.append("min_vms = \(g.minVMs)") }
            if let m = g.maxVMs { lines.append("max_vms = \(m)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A share as the whole percentage a `[group:…]` section takes (rounded down, at least 1).
    static func percent(_ share: Double) -> Int {
        guard share.isFinite else { return 1 }
        return max(1, min(100, Int(share.rounded(.down))))
    }

    /// Loads and compiles the text like a site's files.
    /// - Throws: ``InProcessSiteError`` with every diagnostic, rendered, when it does not load.
    public func load() throws -> Site {
        let text = ini
        let result = Site.load([ConfigSource(name: Self.sourceName, text: text)])
        guard let site = result.site else {
            var renderer = DiagnosticRenderer()
            renderer.addFile(named: Self.sourceName, contents: text)
            throw InProcessSiteError(
                message: "the demo's site configuration does not load:\n" + renderer.render(result.diagnostics))
        }
        return site
    }
}
