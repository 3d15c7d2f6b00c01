import VEMConfig
import VEMCore
import VEMPolicy
import VEMPool
import VEMSite

/// The demo's site configuration: the INI text a real site would write for the Manager (`[manager]` settings
/// and one `[group:…]` per group), compiled through ``VEMSite/Site/load(_:globals:)`` like any site. The
/// Manager's triggers are its defaults, in trace seconds: `vem.rebalance` (`policy.rebalance()` on updates and
/// every `rebalance_interval`) and `vem.poll` (a property round every `poll_interval`), the latter written out
/// to ask only the Clients that report properties (the Dom0 and batch Clients, not the stand-in guests).
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
    /// keeping preemption off (its verdict has been measured without it).
    public static let longestGrace = 7 * 86_400

    /// The INI text.
    public var ini: String {
        var lines = [
            "# The site of `vem demo`: the Manager's settings, vem.poll and the groups; vem.rebalance is the",
            "# Manager's default. Every time is in trace seconds (the demo's clock).",
            "[manager]",
            "poll_interval = \(pollInterval)s",
            "rebalance_interval = \(rebalanceInterval)s",
            "max_booting = \(policy.maxBootingSiteWide)",
            "max_booting_per_host = \(policy.maxBootingPerHost)",
            "idle_timeout = \(policy.idleTimeout)s",
            "keep_idle_vms = \(policy.keepIdleVMs ? "yes" : "no")",
            "min_lifetime = \(policy.minLifetime)s",
            "placement = \(policy.placement.rawValue)",
            "# Preemption stays off in the demo (the longest grace a site can write).",
            "starvation_grace = \(min(policy.starvationGrace, Self.longestGrace))s",
        ]
        if let uri = migrationURI, policy.migrationAllowed {
            lines += ["migration = yes", "migration_uri = \(uri)"]
        } else {
            lines.append("migration = no")
        }
        // vem.poll as the Manager's default, but asking only the Clients that report properties: the stand-in guests
        // report none, and in the fast-forward (×10,000) asking 60 of them every 30 s would be pure load.
        lines += [
            "",
            "[trigger:vem.poll]",
            "description = the Manager's default vem.poll, asking the Clients that report properties (not the guests)",
            "expr = { len(manager.clients) != 0 }",
            "cmd = { sender.send_get_property(clients=[c for c in manager.clients if c.role != \"domU\"]) }",
            "ticks = \(pollInterval)",
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
