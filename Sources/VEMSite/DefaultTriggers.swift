import VEMConfig
import VEMCore

/// The triggers the Manager adds to a site with groups (DESIGN.md §6: the default policy is "shipped as
/// default triggers"), unless `[manager] default_triggers = no`:
///
/// ```
/// [trigger:vem.poll]
/// expr = { len(manager.clients) != 0 }
/// cmd = { sender.send_get_property() }
/// ticks = <poll_interval>
///
/// [trigger:vem.rebalance]
/// expr = { True }
/// cmd = { policy.rebalance() }
/// ticks = <rebalance_interval>
/// on_update_check = yes
/// ```
///
/// `vem.poll` keeps the Manager's view fresh (the batch Client's demand, the Dom0 Clients' `hypervisor`
/// property); the replies fire `vem.rebalance`, so the pool is planned after every change of demand, and at
/// least every `rebalance_interval` (idle timeouts and lifetimes expire without any report). A configured
/// trigger of the same name replaces the default one. They are written in the trigger language and compiled
/// like any other trigger, with the file name `<vem defaults>` in their diagnostics.
public enum DefaultTriggers {
    /// The file name the default triggers' locations carry.
    public static let fileName = "<vem defaults>"
    /// The names of the default triggers.
    public static let names = ["vem.poll", "vem.rebalance"]

    /// The default triggers' INI text for `settings`.
    public static func text(_ settings: ManagerSettings) -> String {
        """
        [trigger:vem.poll]
        description = VEM default: ask every Client for its properties
        expr = { len(manager.clients) != 0 }
        cmd = { sender.send_get_property() }
        ticks = \(settings.pollInterval)

        [trigger:vem.rebalance]
        description = VEM default: plan the pool (policy.rebalance) when properties arrive and periodically
        expr = { True }
        cmd = { policy.rebalance() }
        ticks = \(settings.rebalanceInterval)
        on_update_check = yes

        """
    }

    /// The default triggers `configuration` gets: none without groups or with `default_triggers = no`; those
    /// whose name a configured trigger already has are left out.
    public static func definitions(for configuration: SiteConfiguration) -> [TriggerDefinition] {
        let settings = configuration.manager ?? ManagerSettings()
        guard settings.defaultTriggers, !configuration.groups.isEmpty else { return [] }
        let taken = Set(configuration.triggers.map(\.name))
        let loaded = ConfigLoader.load([ConfigSource(name: fileName, text: text(settings))])
        // The text is ours and always loads; were it not to, no default trigger is better than a broken one.
        return (loaded.configuration?.triggers ?? []).filter { !taken.contains($0.name) }
    }
}
