import Foundation

/// A typed property value, as a property plugin reports it after conversion to its `return_type`.
///
/// `json` return types produce nested `array` and `object` values; `null` only appears inside JSON.
public enum PropertyValue: Hashable, Sendable {
    /// A signed integer (`return_type = int`).
    case int(Int64)
    /// A finite floating-point number (`return_type = float`).
    case float(Double)
    /// Text (`return_type = str`).
    case string(String)
    /// A boolean (`return_type = bool`).
    case bool(Bool)
    /// JSON `null`.
    case null
    /// A JSON array.
    case array([PropertyValue])
    /// A JSON object.
    case object([String: PropertyValue])
}

extension PropertyValue: Codable {
    /// Decodes any JSON value: `null`, booleans, integers (as `int` when they fit in 64 bits),
    /// other numbers, strings, arrays and objects.
    public init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: AnyKey.self) {
            var object: [String: PropertyValue] = [:]
            for key in c.allKeys { object[key.stringValue] = try c.decode(PropertyValue.self, forKey: key) }
            self = .object(object)
            return
        }
        if var c = try? decoder.unkeyedContainer() {
            var array: [PropertyValue] = []
            while !c.isAtEnd { array.append(try c.decode(PropertyValue.self)) }
            self = .array(array)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .float(d)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    /// Encodes the value as plain JSON (an `int` as a JSON integer, a `float` as a JSON number).
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let o):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in o { try c.encode(v, forKey: AnyKey(k)) }
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for v in a { try c.encode(v) }
        case .int(let i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case .float(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        }
    }

    /// The value as compact JSON text with sorted keys (`{"a":1}`), for command output and logs.
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A coding key for arbitrary JSON object keys.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// What a property read produced: a typed value, or an error value that says why there is none.
///
/// A failure is an ordinary value: it is cached, compared and sent to the Manager like a value,
/// so that a trigger can see *why* a property is missing. Nothing in the Reader throws or crashes
/// because a file is malformed or a program printed garbage.
public enum PropertyResult: Hashable, Sendable, Codable {
    /// The property's value.
    case success(PropertyValue)
    /// Why there is no value.
    case failure(AgentError)

    /// The value, if this is a success.
    public var value: PropertyValue? {
        if case .success(let v) = self { return v }
        return nil
    }

    /// The error, if this is a failure.
    public var error: AgentError? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
