#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// One structured value, the same from a plugin to a trigger: what a property plugin reads, what travels on the
/// wire (`VEMProtocol.WireValue`), what the Manager's state holds and a trigger reads (`VEMRules.JSON`), and a
/// command's arguments. Lists and maps stay lists and maps all the way; nothing is turned into text on the way.
///
/// Its shape is JSON's, keeping integers and floats apart.
public enum StructuredValue: Hashable, Sendable {
    /// No value (JSON `null`).
    case null
    /// A boolean.
    case bool(Bool)
    /// A signed 64-bit integer.
    case int(Int64)
    /// An IEEE-754 double.
    case float(Double)
    /// A UTF-8 string.
    case string(String)
    /// A list.
    case array([StructuredValue])
    /// A map with string keys (kept sorted by key on the wire and in JSON text).
    case object([String: StructuredValue])

    /// The name of the value's type as written in configuration files (`int`, `float`, `str`, `bool`, `null`,
    /// `list`, `dict`).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        }
    }

    /// Equality that compares floats by bit pattern, so NaN equals itself (for round-trip checks).
    public func isIdentical(to other: StructuredValue) -> Bool {
        switch (self, other) {
        case (.float(let a), .float(let b)): a.bitPattern == b.bitPattern
        case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.isIdentical(to: $1) }
        case (.object(let a), .object(let b)):
            a.count == b.count && a.allSatisfy { key, value in b[key].map(value.isIdentical) ?? false }
        default: self == other
        }
    }

    /// The value as compact JSON text with sorted keys (`{"a":1}`), for logs, tables and a program's command
    /// line; non-finite floats become `null`.
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension StructuredValue: Codable {
    /// Decodes any JSON value: `null`, booleans, integers (as `int` when they fit in 64 bits), other numbers,
    /// strings, arrays and objects.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .float(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([StructuredValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: StructuredValue].self))
        }
    }

    /// Encodes the value as plain JSON (a non-finite float as `null`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .float(let d): if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// A named value: a command argument (empty name for a positional one) or an event attribute.
public struct NamedValue: Hashable, Sendable, Codable {
    /// The name (empty for a positional argument).
    public var name: String
    /// The value.
    public var value: StructuredValue
    /// Creates a named value.
    public init(_ name: String, _ value: StructuredValue) {
        self.name = name
        self.value = value
    }
}

extension StructuredValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringInterpolation, ExpressibleByArrayLiteral
{
    /// `nil` is `.null`.
    public init(nilLiteral: ()) { self = .null }
    /// A boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A float.
    public init(floatLiteral value: Double) { self = .float(value) }
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A list.
    public init(arrayLiteral elements: StructuredValue...) { self = .array(elements) }
}
// Not `ExpressibleByDictionaryLiteral`: its associated type `Value` would shadow the trigger language's `Value` in
// every extension of this type. Write dicts as `.object([...])`.
