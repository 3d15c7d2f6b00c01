import VEMCore

/// A sample the Reader just took, and whether it changed the property's value.
public struct ReaderUpdate: Hashable, Sendable {
    /// The sample.
    public var sample: PropertySample
    /// New, changed or unchanged with respect to the cached sample.
    public var change: PropertyCache.Change
}

/// The paper's *Reader*: collects properties through property plugins on their schedule.
///
/// A shell around ``ReaderSchedule`` (when) and ``PropertyCache`` (last values): the hosting agent
/// asks ``nextDue`` to know when to wake up, then calls ``collectDue()``, and pushes the updates whose
/// `change.shouldPush` is true (or all of them, for a periodic push). Time comes from the injected
/// ``VEMCore/Timeline``; the Reader never sleeps.
public actor Reader {
    private var schedule: ReaderSchedule
    private var cache = PropertyCache()
    private let definitions: [String: ScheduledProperty]
    private let order: [String]
    private let registry: PluginRegistry
    private let clock: any Timeline

    /// Creates a Reader whose schedule starts now.
    /// - Parameters:
    ///   - definitions: The properties to collect.
    ///   - registry: Where their plugins are.
    ///   - clock: The Client's clock.
    ///   - jitter: The schedule's jitter fraction (see ``ReaderSchedule``).
    ///   - seed: The schedule's seed.
    /// - Throws: ``AgentError`` `.badParameters` for a bad `ticks` or a repeated name.
    public init(
        definitions: [ScheduledProperty], registry: PluginRegistry, clock: any Timeline,
        jitter: Double = 0.1, seed: UInt64 = 0
    ) throws {
        schedule = try ReaderSchedule(definitions: definitions, start: clock.now(), jitter: jitter, seed: seed)
        self.definitions = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        order = definitions.map(\.name)
        self.registry = registry
        self.clock = clock
    }

    /// The earliest time at which a property is due.
    public var nextDue: Double? { schedule.nextDue }

    /// The names of all defined properties, in definition order.
    public var propertyNames: [String] { order }

    /// The last sample of a property, if any.
    public func lastSample(of name: String) -> PropertySample? { cache[name] }

    /// Reads every property due now (concurrently), records the samples and returns them in definition order.
    public func collectDue() async -> [ReaderUpdate] {
        let names = schedule.due(at: clock.now())
        return await read(names)
    }

    /// Reads the named properties now, outside their schedule (the `get_property` command).
    /// - Parameter names: Property names; empty means all.
    /// - Returns: The updates, and the names that are not defined (not read).
    public func refresh(_ names: [String]) async -> (updates: [ReaderUpdate], unknown: [String]) {
        let wanted = names.isEmpty ? order : names
        let unknown = wanted.filter { definitions[$0] == nil }
        let known = wanted.filter { definitions[$0] != nil }
        return (await read(known), unknown)
    }

    private func read(_ names: [String]) async -> [ReaderUpdate] {
        let requests = names.compactMap { definitions[$0]?.request }
        let registry = self.registry
        let clock = self.clock
        let samples = await withTaskGroup(of: (Int, PropertySample).self) { group in
            for (i, r) in requests.enumerated() {
                group.addTask {
                    let result = await registry.read(r, now: clock.now())
                    return (i, PropertySample(name: r.name, result: result, timestamp: clock.now()))
                }
            }
            var out: [(Int, PropertySample)] = []
            for await s in group { out.append(s) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return samples.map { ReaderUpdate(sample: $0, change: cache.record($0)) }
    }
}
