import Foundation

extension Value {
    /// How the value prints in Starlark (`"a"` quoted, `None`, `[1, 2]`, `(1,)`).
    public var repr: String {
        var w = ReprWriter(limit: Int.max)
        try? w.write(self, quoted: true)
        return w.out
    }

    /// What `str(x)` gives: strings unquoted, everything else as ``repr``.
    public var str: String {
        if case .string(let s) = self { return s }
        return repr
    }

    /// The value as a JSON-compatible Foundation object (for `JSONSerialization`).
    ///
    /// Tuples become arrays, dict keys become strings (`str(key)`), non-finite floats become
    /// `null`, functions and host objects become their repr.
    public var jsonObject: Any {
        switch self {
        case .none: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .float(let d): return d.isFinite ? d : NSNull()
        case .string(let s): return s
        case .list(let a), .tuple(let a): return a.map(\.jsonObject)
        case .dict(let d):
            var o: [String: Any] = [:]
            for (k, v) in zip(d.keys, d.values) { o[k.str] = v.jsonObject }
            return o
        case .function, .object: return repr
        }
    }
}

/// Writes reprs with a length limit, so that `str([[0]*1000000]*1000000)` fails fast instead of filling memory.
struct ReprWriter {
    var out = ""
    let limit: Int
    private var count = 0

    init(limit: Int) { self.limit = limit }

    mutating func append(_ s: String) throws {
        out += s
        count += s.utf8.count
        if count > limit {
            throw RuleError(.limit, "string would exceed the size limit of \(limit) characters")
        }
    }

    mutating func write(_ v: Value, quoted: Bool, depth: Int = 0) throws {
        guard depth < 100 else {
            try append("…")
            return
        }
        switch v {
        case .none: try append("None")
        case .bool(let b): try append(b ? "True" : "False")
        case .int(let i): try append(String(i))
        case .float(let d): try append(formatFloat(d))
        case .string(let s): try append(quoted ? quote(s) : s)
        case .list(let a):
            try append("[")
            for (i, e) in a.enumerated() {
                if i > 0 { try append(", ") }
                try write(e, quoted: true, depth: depth + 1)
            }
            try append("]")
        case .tuple(let a):
            try append("(")
            for (i, e) in a.enumerated() {
                if i > 0 { try append(", ") }
                try write(e, quoted: true, depth: depth + 1)
            }
            try append(a.count == 1 ? ",)" : ")")
        case .dict(let d):
            try append("{")
            for (i, (k, e)) in zip(d.keys, d.values).enumerated() {
                if i > 0 { try append(", ") }
                try write(k, quoted: true, depth: depth + 1)
                try append(": ")
                try write(e, quoted: true, depth: depth + 1)
            }
            try append("}")
        case .function(let f):
            try append(f.isBuiltin ? "<built-in function \(f.name)>" : "<function \(f.name)>")
        case .object(let o): try append(o.repr)
        }
    }
}

/// Starlark float formatting: `1.0`, `0.5`, `1e+100`, `+inf`, `nan`.
func formatFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d > 0 ? "+inf" : "-inf" }
    let s = d.description
    return s
}

/// A double-quoted string literal with escapes.
func quote(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if c.value < 0x20 || c.value == 0x7F {
                out += "\\x" + (c.value < 16 ? "0" : "") + String(c.value, radix: 16)
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }
    return out + "\""
}
