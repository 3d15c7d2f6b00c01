import Foundation
import VEMCore

/// A JSON-shaped value, keeping integers and floats apart: property values in the Manager's state (as they came
/// off the wire), the operator's API and the snapshot format (docs/SNAPSHOT.md), and what `Snapshot(json:)`
/// decodes. It is the one ``VEMCore/StructuredValue``.
public typealias JSON = StructuredValue

extension StructuredValue {
    /// The value in the trigger language (objects become dicts with sorted keys).
    public var value: Value {
        switch self {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
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
        case .float(let d): return .float(d)
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
