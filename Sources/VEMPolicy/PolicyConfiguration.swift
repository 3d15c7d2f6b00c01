import VEMCore

/// The knobs of the planner, with the defaults a site gets when it says nothing.
public struct PolicyConfiguration: Sendable, Hashable, Codable {
    /// Where new VMs go (``VEMCore/Placement``, the type `[manager] placement` reads).
    public typealias Placement = VEMCore.Placement

    /// VMs booting at once over the whole site (default 4).
    public var maxBootingSiteWide: Int
    /// VMs booting at once on one host (default 2).
    public var maxBootingPerHost: Int
    /// Seconds a VM lives at least before it may be drained (default 600).
    public var minLifetime: Int
    /// Seconds a VM must have been idle before it may be drained (default 300).
    public var idleTimeout: Int
    /// Seconds the oldest waiting job of a group below its guaranteed share must have waited before other
    /// groups' VMs are preempted for it (default 1800).
    public var starvationGrace: Int
    /// Where new VMs go (default `.pack`).
    public var placement: Placement
    /// Whether the planner may propose live migrations to gather scattered free room (default true).
    public var migrationAllowed: Bool

    /// Creates a configuration; every parameter has the documented default.
    public init(
        maxBootingSiteWide: Int = 4, maxBootingPerHost: Int = 2, minLifetime: Int = 600, idleTimeout: Int = 300,
        starvationGrace: Int = 1800, placement: Placement = .pack, migrationAllowed: Bool = true
    ) {
        self.maxBootingSiteWide = maxBootingSiteWide
        self.maxBootingPerHost = maxBootingPerHost
        self.minLifetime = minLifetime
        self.idleTimeout = idleTimeout
        self.starvationGrace = starvationGrace
        self.placement = placement
        self.migrationAllowed = migrationAllowed
    }
}
