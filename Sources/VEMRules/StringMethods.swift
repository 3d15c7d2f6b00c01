import Foundation

let stringMethodNames: [String] = [
    "startswith", "endswith", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper", "format", "join",
    "replace", "find", "count", "isdigit", "isalpha", "isspace", "capitalize", "title", "elems", "splitlines",
]
let dictMethodNames: [String] = ["get", "keys", "values", "items"]
let listMethodNames: [String] = ["index", "count"]

private func string(_ fn: String, _ v: Value, _ what: String = "argument") throws -> String {
    guard case .string(let s) = v else {
        throw RuleError(.type, "\(fn)() \(what) must be a string, not '\(v.typeName)'")
    }
    return s
}

private func stripSet(_ fn: String, _ args: [Value]) throws -> Set<Unicode.Scalar>? {
    guard let a = args.first, a != .none else { return nil }
    return Set(try string(fn, a).unicodeScalars)
}

extension Env {
    /// Methods of strings: `s.startswith(…)`, `s.split(…)`, `"{}".format(…)`, …
    func stringMethod(_ s: String, _ name: String, _ args: [Value], _ kw: HostFunction.Keywords) throws -> Value {
        try charge(s.utf8.count / 1024)
        switch name {
        case "startswith", "endswith":
            _ = try arguments(name, args, kw, min: 1, max: 1)
            let candidates: [Value]
            if case .tuple(let t) = args[0] { candidates = t } else { candidates = [args[0]] }
            for c in candidates {
                let p = try string(name, c)
                if name == "startswith" ? s.unicodeScalars.starts(with: p.unicodeScalars)
                    : s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
                {
                    return .bool(true)
                }
            }
            return .bool(false)
        case "split", "rsplit":
            let k = try arguments(name, args, kw, min: 0, max: 2, keywords: ["sep", "maxsplit"])
            let sep = args.first ?? k["sep"] ?? .none
            guard case .int(let maxSplit) = args.count > 1 ? args[1] : (k["maxsplit"] ?? .int(-1)) else {
                throw RuleError(.type, "\(name)() maxsplit must be an integer")
            }
            let parts: [String]
            if sep == .none {
                parts = s.split(whereSeparator: { $0.isWhitespace }).map(String.init)
                if maxSplit >= 0 && maxSplit < parts.count - 1 {
                    return .list(splitWhitespace(s, Int(maxSplit), reverse: name == "rsplit").map { .string($0) })
                }
            } else {
                let sepString = try string(name, sep, "separator")
                if sepString.isEmpty { throw RuleError(.value, "empty separator") }
                var all = s.components(separatedBy: sepString)
                if maxSplit >= 0 && maxSplit < all.count - 1 {
                    let m = Int(maxSplit)
                    if name == "split" {
                        all = Array(all[..<m]) + [all[m...].joined(separator: sepString)]
                    } else {
                        let cut = all.count - m
                        all = [all[..<cut].joined(separator: sepString)] + Array(all[cut...])
                    }
                }
                parts = all
            }
            try checkLength(parts.count)
            return .list(parts.map { .string($0) })
        case "strip", "lstrip", "rstrip":
            _ = try arguments(name, args, kw, min: 0, max: 1)
            let set = try stripSet(name, args)
            let drop: (Unicode.Scalar) -> Bool = { c in set?.contains(c) ?? c.properties.isWhitespace }
            var scalars = Substring(s).unicodeScalars[...]
            if name != "rstrip" { while let f = scalars.first, drop(f) { scalars.removeFirst() } }
            if name != "lstrip" { while let l = scalars.last, drop(l) { scalars.removeLast() } }
            return .string(String(String.UnicodeScalarView(scalars)))
        case "lower":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            return .string(s.lowercased())
        case "upper":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            return .string(s.uppercased())
        case "capitalize":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            return .string(s.prefix(1).uppercased() + s.dropFirst().lowercased())
        case "title":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            return .string(s.capitalized)
        case "isdigit", "isalpha", "isspace":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            let test: (Unicode.Scalar) -> Bool = name == "isdigit" ? { $0.isASCIIDigit }
                : name == "isalpha" ? { $0.properties.isAlphabetic } : { $0.properties.isWhitespace }
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(test))
        case "elems":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            try checkLength(s.unicodeScalars.count)
            return .list(s.unicodeScalars.map { .string(String($0)) })
        case "splitlines":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            var lines = s.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
            return .list(lines.map { .string($0.hasSuffix("\r") ? String($0.dropLast()) : $0) })
        case "join":
            _ = try arguments(name, args, kw, min: 1, max: 1)
            let items = try iterate(args[0])
            var total = 0
            var parts: [String] = []
            for i in items {
                let p = try string(name, i, "items")
                total += p.unicodeScalars.count + s.unicodeScalars.count
                try checkString(total)
                parts.append(p)
            }
            return .string(parts.joined(separator: s))
        case "replace":
            _ = try arguments(name, args, kw, min: 2, max: 3)
            let old = try string(name, args[0]), new = try string(name, args[1])
            var limit = Int.max
            if args.count > 2, case .int(let n) = args[2], n >= 0 { limit = Int(n) }
            if old.isEmpty { throw RuleError(.value, "replace() of an empty string is not supported") }
            var out = ""
            var rest = Substring(s)
            var done = 0
            while done < limit, let r = rest.range(of: old) {
                out += rest[..<r.lowerBound]
                out += new
                rest = rest[r.upperBound...]
                done += 1
                try checkString(out.unicodeScalars.count)
            }
            out += rest
            try checkString(out.unicodeScalars.count)
            return .string(out)
        case "find", "count":
            _ = try arguments(name, args, kw, min: 1, max: 1)
            let sub = try string(name, args[0])
            let hay = Array(s.unicodeScalars), needle = Array(sub.unicodeScalars)
            if name == "count" && needle.isEmpty { return .int(Int64(hay.count + 1)) }
            var i = 0, count: Int64 = 0
            while i + needle.count <= hay.count {
                if hay[i..<(i + needle.count)].elementsEqual(needle) {
                    if name == "find" { return .int(Int64(i)) }
                    count += 1
                    i += max(1, needle.count)
                } else {
                    i += 1
                }
            }
            return .int(name == "find" ? -1 : count)
        case "format":
            return .string(try format(s, args, kw))
        default:
            throw noAttribute(.string(s), name)
        }
    }

    private func splitWhitespace(_ s: String, _ maxSplit: Int, reverse: Bool) -> [String] {
        if reverse {
            let parts = splitWhitespace(String(s.reversed()), maxSplit, reverse: false)
            return parts.reversed().map { String($0.reversed()) }
        }
        var out: [String] = []
        var rest = Substring(s).drop(while: { $0.isWhitespace })
        while out.count < maxSplit, let end = rest.firstIndex(where: { $0.isWhitespace }) {
            out.append(String(rest[..<end]))
            rest = rest[end...].drop(while: { $0.isWhitespace })
        }
        let tail = String(rest).trimmingCharacters(in: .whitespacesAndNewlines)
        if !tail.isEmpty { out.append(String(rest.reversed().drop(while: { $0.isWhitespace }).reversed())) }
        return out
    }

    /// `"{} of {name}".format(…)`: automatic and explicit indices, names, `{{`/`}}`, and `:.Nf`/`:d`/`:s` specs.
    private func format(_ template: String, _ args: [Value], _ kw: HostFunction.Keywords) throws -> String {
        var out = ""
        var it = Array(template.unicodeScalars)[...]
        var auto = 0
        while let c = it.popFirst() {
            if c == "}" {
                guard it.first == "}" else { throw RuleError(.value, "single '}' encountered in format string") }
                it.removeFirst()
                out += "}"
                continue
            }
            guard c == "{" else {
                out.unicodeScalars.append(c)
                continue
            }
            if it.first == "{" {
                it.removeFirst()
                out += "{"
                continue
            }
            var field = ""
            while let d = it.popFirst(), d != "}" {
                if d == "{" { throw RuleError(.value, "nested replacement fields are not supported") }
                field.unicodeScalars.append(d)
                if it.isEmpty { throw RuleError(.value, "unmatched '{' in format string") }
            }
            let pieces = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let ref = pieces.first.map(String.init) ?? ""
            let spec = pieces.count > 1 ? String(pieces[1]) : ""
            let value: Value
            if ref.isEmpty {
                guard auto < args.count else { throw RuleError(.index, "format: not enough arguments for '{}'") }
                value = args[auto]
                auto += 1
            } else if let n = Int(ref) {
                guard n >= 0, n < args.count else { throw RuleError(.index, "format: no argument at index \(n)") }
                value = args[n]
            } else {
                guard let v = kw.first(where: { $0.name == ref })?.value else {
                    throw RuleError(.key, "format: no keyword argument '\(ref)'")
                }
                value = v
            }
            out += try formatField(value, spec)
            try checkString(out.utf8.count)
        }
        return out
    }

    private func formatField(_ v: Value, _ spec: String) throws -> String {
        if spec.isEmpty || spec == "s" { return try stringify(v, quoted: false) }
        if spec == "d", case .int(let i) = v { return String(i) }
        if spec == "r" { return v.repr }
        if spec.hasPrefix("."), spec.hasSuffix("f"), let n = Int(spec.dropFirst().dropLast()), n >= 0, n <= 20 {
            switch v {
            case .int(let i): return String(format: "%.\(n)f", Double(i))
            case .float(let d): return String(format: "%.\(n)f", d)
            default: throw RuleError(.type, "format spec '\(spec)' needs a number, not '\(v.typeName)'")
            }
        }
        throw RuleError(.value, "unsupported format spec '\(spec)'")
    }

    /// Methods of dicts: `get`, `keys`, `values`, `items`.
    func dictMethod(_ d: Dict, _ name: String, _ args: [Value], _ kw: HostFunction.Keywords) throws -> Value {
        switch name {
        case "get":
            _ = try arguments(name, args, kw, min: 1, max: 2)
            guard args[0].isHashable else { throw RuleError(.type, "unhashable type: '\(args[0].typeName)'") }
            return d[args[0]] ?? (args.count > 1 ? args[1] : .none)
        case "keys":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            return .list(d.keys)
        case "values":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            return .list(d.values)
        case "items":
            _ = try arguments(name, args, kw, min: 0, max: 0)
            try charge(d.count / 64)
            return .list(zip(d.keys, d.values).map { .tuple([$0, $1]) })
        default:
            throw noAttribute(.dict(d), name)
        }
    }

    /// Methods of lists: `index`, `count`.
    func listMethod(_ a: [Value], _ name: String, _ args: [Value], _ kw: HostFunction.Keywords) throws -> Value {
        _ = try arguments(name, args, kw, min: 1, max: 1)
        try charge(a.count / 64)
        switch name {
        case "index":
            guard let i = a.firstIndex(of: args[0]) else { throw RuleError(.value, "\(args[0].repr) is not in list") }
            return .int(Int64(i))
        case "count":
            return .int(Int64(a.filter { $0 == args[0] }.count))
        default:
            throw noAttribute(.list(a), name)
        }
    }
}
