/// One reading of a property: its name, what was read, and when (the Client's ``VEMCore/Timeline``).
public struct PropertySample: Hashable, Sendable, Codable {
    /// The property's name.
    public var name: String
    /// The value or the error value.
    public var result: PropertyResult
    /// When it was read, on the Client's clock.
    public var timestamp: Double

    /// Creates a sample.
    public init(name: String, result: PropertyResult, timestamp: Double) {
        self.name = name
        self.result = result
        self.timestamp = timestamp
    }
}

/// The last sample of every property, and whether a new sample changed it (for push-on-change).
///
/// A pure value: no clock, no I/O. A sample "changed" when it is the first of its property, or when its
/// result differs from the previous one — a value that became an error, an error that became a value,
/// or an error whose message changed all count as changes. Timestamps alone never count.
public struct PropertyCache: Sendable {
    /// How a recorded sample relates to the previous one.
    public enum Change: Hashable, Sendable {
        /// The first sample of this property.
        case new
        /// The result differs from the previous sample's.
        case changed
        /// The same result as before (only the timestamp moved).
        case unchanged

        /// True for `new` and `changed`: the sample should be pushed to the Manager.
        public var shouldPush: Bool { self != .unchanged }
    }

    private var samples: [String: PropertySample] = [:]

    /// Creates an empty cache.
    public init() {}

    /// Stores a sample, replacing the property's previous one.
    /// - Returns: Whether it is new, changed or unchanged.
    @discardableResult
    public mutating func record(_ sample: PropertySample) -> Change {
        let previous = samples.updateValue(sample, forKey: sample.name)
        guard let previous else { return .new }
        return previous.result == sample.result ? .unchanged : .changed
    }

    /// The last sample of a property, if any.
    public subscript(name: String) -> PropertySample? { samples[name] }

    /// Every property's last sample, sorted by name.
    public var all: [PropertySample] { samples.values.sorted { $0.name < $1.name } }

    /// Forgets a property (after a reload removed it).
    public mutating func remove(_ name: String) { samples[name] = nil }
}
