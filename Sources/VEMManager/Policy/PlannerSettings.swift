import VEMConfig
import VEMPolicy

extension PolicyConfiguration {
    /// The planner's knobs from the `[manager]` section (durations rounded up to whole seconds).
    public init(_ settings: ManagerSettings) {
        func seconds(_ d: Duration) -> Int {
            let (s, atto) = d.components
            return Int(s) + (atto > 0 ? 1 : 0)
        }
        self.init(
            maxBootingSiteWide: settings.maxBooting, maxBootingPerHost: settings.maxBootingPerHost,
            minLifetime: seconds(settings.minLifetime), idleTimeout: seconds(settings.idleTimeout),
            starvationGrace: seconds(settings.starvationGrace),
            placement: settings.placement, migrationAllowed: settings.migration,
            keepIdleVMs: settings.keepIdleVMs)
    }
}
