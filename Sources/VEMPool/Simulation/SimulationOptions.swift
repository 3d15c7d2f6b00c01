import VEMBatch
import VEMPolicy

/// `vem simulate`'s options as given (durations as text, like `90s` or `1d12h`): checked by ``validate()``,
/// read by ``SimulationSetup/init(_:)``. The defaults are ``SimulationDefaults``'.
public struct SimulationOptions: Sendable {
    /// An option out of range, with the message `vem simulate` prints.
    public struct Invalid: Error, Sendable {
        /// `--days must be at least 1`, ….
        public var message: String
    }

    public var trace: String
    public var groups = 3
    public var names: String?
    public var groupBy = "group"
    public var sweep: Int?
    public var days = 7
    public var window = SimulationDefaults.window
    public var hosts = SimulationDefaults.hosts
    public var cpusPerHost = SimulationDefaults.cpusPerHost
    public var vmCPUs = SimulationDefaults.vmCPUs
    public var sample = SimulationDefaults.sample
    public var bootDelay = "60s"
    public var tick = "1m"
    public var maxBooting = SimulationDefaults.maxBooting
    public var idleTimeout = SimulationDefaults.idleTimeout
    public var minLifetime = SimulationDefaults.minLifetime
    public var grace = SimulationDefaults.grace
    public var releaseIdle = false
    public var placement = "pack"
    public var limit = "30d"

    /// The defaults, for the trace at `trace`.
    public init(trace: String) { self.trace = trace }

    /// Checks every option, in the order `vem simulate` reports them.
    /// - Throws: ``Invalid`` for an option out of range; ``PoolError`` for a window that is not `START:DURATION`.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws(Invalid) { if !ok { throw Invalid(message: message) } }
        try check(groups >= 0, "--groups must be 0 or more")
        try check(TraceGroupRule.Key(rawValue: groupBy) != nil, "--group-by is group, user, queue or partition")
        try check(sweep.map { $0 >= 1 } ?? true, "--sweep must be at least 1")
        try check(days >= 1, "--days must be at least 1")
        try check(
            min(hosts, cpusPerHost, vmCPUs, sample, maxBooting) >= 1,
            "--hosts, --cpus-per-host, --vm-cpus, --sample and --max-booting must be at least 1")
        try check(vmCPUs <= cpusPerHost, "--vm-cpus cannot exceed --cpus-per-host")
        try check(PolicyConfiguration.Placement(rawValue: placement) != nil, "--placement is 'pack' or 'spread'")
        _ = try SimulationDefaults.parseWindow(window)
        let durations = [
            ("--boot-delay", bootDelay), ("--tick", tick), ("--idle-timeout", idleTimeout),
            ("--min-lifetime", minLifetime), ("--limit", limit),
        ]
        for (name, value) in durations + (grace == "off" ? [] : [("--grace", grace)]) {
            let seconds = SimulationDefaults.parseDuration(value)
            try check(seconds != nil, "\(name): '\(value)' is not a duration (like 90s, 5m, 1h30m, 2d)")
            try check(!(name == "--tick" || name == "--limit") || (seconds ?? 0) >= 1, "\(name) must be at least 1s")
        }
    }

    /// ``limit`` in seconds.
    public var limitSeconds: Int { SimulationDefaults.parseDuration(limit) ?? 30 * 86_400 }
}

extension SimulationSetup {
    /// Reads the trace and sets the pool up as `options` say.
    /// - Throws: When the trace cannot be read or the options do not hold (``SimulationOptions/validate()``).
    public init(_ options: SimulationOptions) throws {
        let o = options
        try self.init(
            trace: o.trace, groups: o.groups, names: o.names, groupBy: TraceGroupRule.Key(rawValue: o.groupBy) ?? .group,
            window: o.window, hosts: o.hosts, cpusPerHost: o.cpusPerHost, vmCPUs: o.vmCPUs, sample: o.sample,
            bootDelay: o.bootDelay, tick: o.tick, maxBooting: o.maxBooting, idleTimeout: o.idleTimeout,
            minLifetime: o.minLifetime, grace: o.grace, placement: o.placement, keepIdle: !o.releaseIdle)
    }
}
