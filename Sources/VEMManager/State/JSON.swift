import Foundation
import VEMProtocol
import VEMRules

extension JSON {
    /// A wire value as JSON; a `json` wire value is parsed (kept as a string when it is not valid JSON).
    public init(_ wire: WireValue) {
        switch wire {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .float(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .json(let text):
            self = (try? JSONDecoder().decode(JSON.self, from: Data(text.utf8))) ?? .string(text)
        }
    }

    /// A short human rendering for tables (`123`, `0.5`, `"x"`, `{…}`).
    public var brief: String {
        switch self {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s.count > 40 ? String(s.prefix(39)) + "…" : s
        case .array(let a): return "[\(a.count) items]"
        case .object(let o): return "{\(o.count) keys}"
        }
    }
}

extension Value {
    /// The value as a command argument on the wire.
    var wire: WireValue {
        switch self {
        case .none: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .string(let s): return .string(s)
        case .object(let o):
            if case .string(let name)? = try? o.attribute(named: "name") { return .string(name) }
            return .string(repr)
        default:
            let data = (try? JSONEncoder().encode(json)) ?? Data()
            return .json(String(decoding: data, as: UTF8.self))
        }
    }
}
