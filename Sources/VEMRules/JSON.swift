import Foundation

/// A JSON value, keeping integers and floats apart: property values in the state, the operator's API and the
/// snapshot format (docs/SNAPSHOT.md), and what `Snapshot(json:)` decodes.
public enum JSON: Hashable, Sendable, Codable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// An integer.
    case int(Int64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSON])
    /// An object (encoded with sorted keys by the API's encoder).
    case object([String: JSON])

    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSON].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSON].self))
        }
    }

    /// Encodes the value.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The value in the trigger language (objects become dicts with sorted keys).
    public var value: Value {
        switch self {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .float(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(\.value))
        case .object(let o):
            var d = Dict()
            for k in o.keys.sorted() { d.set(.string(k), o[k]?.value ?? .none) }
            return .dict(d)
        }
    }
}

extension Value {
    /// A language value as JSON (functions and objects as their repr; tuples as arrays; dict keys as `str`).
    public var json: JSON {
        switch self {
        case .none: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let a), .tuple(let a): return .array(a.map(\.json))
        case .dict(let d):
            var o: [String: JSON] = [:]
            for (k, v) in zip(d.keys, d.values) { o[k.str] = v.json }
            return .object(o)
        case .function, .object: return .string(repr)
        }
    }
}
