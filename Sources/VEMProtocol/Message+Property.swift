/// The Manager asks a Client for property values.
public struct GetProperty: Hashable, Sendable {
    /// Chosen by the Manager; echoed in the ``PropertyReport`` that answers.
    public var requestID: UInt64
    /// The properties wanted; empty means all of them.
    public var names: [String]
    /// Creates a request.
    public init(requestID: UInt64, names: [String] = []) {
        self.requestID = requestID
        self.names = names
    }
}

/// A Client reports property values.
public struct PropertyReport: Hashable, Sendable {
    /// The ``GetProperty/requestID`` answered, or 0 for a report scheduled by the property's `ticks`.
    public var requestID: UInt64
    /// The readings, one per property.
    public var readings: [PropertyReading]
    /// Creates a report.
    public init(requestID: UInt64 = 0, readings: [PropertyReading]) {
        self.requestID = requestID
        self.readings = readings
    }
}

/// One property's value (or the error that prevented reading it) at a point in time.
public struct PropertyReading: Hashable, Sendable {
    /// What came out of reading a property.
    public enum Outcome: Hashable, Sendable {
        /// The value read.
        case value(WireValue)
        /// The property plugin failed; the text says why.
        case error(String)
    }

    /// The property's name (`ram_free`).
    public var name: String
    /// When it was read, milliseconds since the Unix epoch (Client clock).
    public var timestampMilliseconds: UInt64
    /// The value or the error.
    public var outcome: Outcome

    /// Creates a reading.
    public init(name: String, timestampMilliseconds: UInt64, outcome: Outcome) {
        self.name = name
        self.timestampMilliseconds = timestampMilliseconds
        self.outcome = outcome
    }

    /// Creates a successful reading.
    public init(name: String, timestampMilliseconds: UInt64, value: WireValue) {
        self.init(name: name, timestampMilliseconds: timestampMilliseconds, outcome: .value(value))
    }
}

/// Something that happened on a Client.
public struct Event: Hashable, Sendable {
    /// The kind of event (`vm_started`, `job_finished`).
    public var kind: String
    /// When it happened, milliseconds since the Unix epoch (Client clock).
    public var timestampMilliseconds: UInt64
    /// Details, in order.
    public var attributes: [NamedValue]
    /// Creates an event.
    public init(kind: String, timestampMilliseconds: UInt64 = 0, attributes: [NamedValue] = []) {
        self.kind = kind
        self.timestampMilliseconds = timestampMilliseconds
        self.attributes = attributes
    }
}
