import VEMProtocol
import VEMRules

extension JSON {
    /// A short human rendering for tables (`123`, `0.5`, `"x"`, `{…}`).
    public var brief: String {
        switch self {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return String(d)
        case .string(let s): return s.count > 40 ? String(s.prefix(39)) + "…" : s
        case .array(let a): return "[\(a.count) items]"
        case .object(let o): return "{\(o.count) keys}"
        }
    }
}

extension Value {
    /// The value as a command argument on the wire: lists, tuples and dicts as lists and dicts (never text), a
    /// client or VM object as its name, a function as its repr.
    var wire: WireValue {
        switch self {
        case .object(let o):
            if case .string(let name)? = try? o.attribute(named: "name") { return .string(name) }
            return .string(repr)
        default:
            return json
        }
    }
}
