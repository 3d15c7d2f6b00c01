/// A typed value as it travels on the wire: a property value, a command argument, an event attribute.
///
/// The cases mirror the paper's `return_type` (`int`, `float`, `str`, `bool`) plus `json` (a JSON text carried
/// verbatim, not parsed by the codec) and `null`.
public enum WireValue: Hashable, Sendable {
    /// No value.
    case null
    /// A boolean.
    case bool(Bool)
    /// A signed 64-bit integer.
    case int(Int64)
    /// An IEEE-754 double. NaN payloads are carried bit-exactly.
    case float(Double)
    /// A UTF-8 string.
    case string(String)
    /// A JSON document, as text. The codec does not validate it; the consumer parses it.
    case json(String)

    /// The wire tag of each case (see the wire format in ``WireFormat``).
    @usableFromInline
    enum Tag: UInt8 {
        case null = 0, bool = 1, int = 2, float = 3, string = 4, json = 5
    }

    /// The name of the value's type as written in configuration files (`int`, `float`, `str`, `bool`, `json`, `null`).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .json: "json"
        }
    }

    /// Wire-level equality: like `==`, but two `.float` values compare by bit pattern, so NaN equals itself.
    /// Useful to check round-trips.
    public func isIdentical(to other: WireValue) -> Bool {
        if case .float(let a) = self, case .float(let b) = other { return a.bitPattern == b.bitPattern }
        return self == other
    }
}

/// A named value: a command argument or an event attribute. Order is preserved on the wire.
public struct NamedValue: Hashable, Sendable {
    /// The name (empty for a positional argument).
    public var name: String
    /// The value.
    public var value: WireValue
    /// Creates a named value.
    public init(_ name: String, _ value: WireValue) {
        self.name = name
        self.value = value
    }
}
