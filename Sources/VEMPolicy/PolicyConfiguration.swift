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
    /// Seconds a VM must have been idle before it may be drained when nobody wants its room (default 300; not
    /// with `keepIdleVMs`).
    public var idleTimeout: Int
    /// Seconds the oldest waiting job of a group below its guaranteed share must have waited before other
    /// groups' VMs are preempted for it (default 900).
    public var starvationGrace: Int
    /// Where new VMs go (default `.pack`).
    public var placement: Placement
    /// Whether the planner may propose live migrations to gather scattered free room (default true).
    public var migrationAllowed: Bool
    /// Whether a group's idle VMs are kept until another group wants their room (default true, in the Manager,
    /// `vem simulate` and `vem demo` alike): they are then destroyed at once for it, whatever their age. When false, idle VMs beyond a
    /// group's target are drained once idle for `idleTimeout` and older than `minLifetime`, and taken for another
    /// group only past `minLifetime`, drained first.
    public var keepIdleVMs: Bool

    private enum CodingKeys: String, CodingKey {
        case maxBootingSiteWide, maxBootingPerHost, minLifetime, idleTimeout, starvationGrace, placement
        case migrationAllowed, keepIdleVMs
    }

    /// Decodes a configuration; `keepIdleVMs` may be missing (written by an earlier version): true, the default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxBootingSiteWide = try c.decode(Int.self, forKey: .maxBootingSiteWide)
        maxBootingPerHost = try c.decode(Int.self, forKey: .maxBootingPerHost)
        minLifetime = try c.decode(Int.self, forKey: .minLifetime)
        idleTimeout = try c.decode(Int.self, forKey: .idleTimeout)
        starvationGrace = try c.decode(Int.self, forKey: .starvationGrace)
        placement = try c.decode(Placement.self, forKey: .placement)
        migrationAllowed = try c.decode(Bool.self, forKey: .migrationAllowed)
        keepIdleVMs = try c.decodeIfPresent(Bool.self, forKey: .keepIdleVMs) ?? true
    }

    /// Creates a configuration; every parameter has the documented default.
    public init(
        maxBootingSiteWide: Int = 4, maxBootingPerHost: Int = 2, minLifetime: Int = 600, idleTimeout: Int = 300,
        starvationGrace: Int = 900, placement: Placement = .pack, migrationAllowed: Bool = true,
        keepIdleVMs: Bool = true
    ) {
        self.keepIdleVMs = keepIdleVMs
        self.maxBootingSiteWide = maxBootingSiteWide
        self.maxBootingPerHost = maxBootingPerHost
        self.minLifetime = minLifetime
        self.idleTimeout = idleTimeout
        self.starvationGrace = starvationGrace
        self.placement = placement
        self.migrationAllowed = migrationAllowed
    }
}
