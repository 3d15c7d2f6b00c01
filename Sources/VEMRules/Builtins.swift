import Foundation

/// A builtin function of the language (`len`, `sorted`, …).
struct Builtin: Sendable {
    let name: String
    let fn: @Sendable (Env, [Value], HostFunction.Keywords) throws -> Value
}

/// Checks the argument count and the allowed keywords of a builtin; returns the keywords by name.
func arguments(_ fn: String, _ args: [Value], _ kwargs: HostFunction.Keywords, min: Int, max: Int,
               keywords: Set<String> = []) throws -> [String: Value] {
    if args.count < min || args.count > max {
        let expected = min == max ? "\(min)" : max == Int.max ? "at least \(min)" : "\(min) to \(max)"
        throw RuleError(.type, "\(fn)() takes \(expected) positional argument\(max == 1 ? "" : "s") but \(args.count) were given")
    }
    var out: [String: Value] = [:]
    for (name, v) in kwargs {
        guard keywords.contains(name) else {
            throw RuleError(.type, "\(fn)() got an unexpected keyword argument '\(name)'")
        }
        out[name] = v
    }
    return out
}

private func builtin(_ name: String, _ fn: @escaping @Sendable (Env, [Value], HostFunction.Keywords) throws -> Value)
    -> (String, Builtin)
{
    (name, Builtin(name: name, fn: fn))
}

/// Every builtin by name. The language has no others: no I/O, no clock, no randomness.
let builtins: [String: Builtin] = Dictionary(uniqueKeysWithValues: [
    builtin("len") { env, args, kw in
        _ = try arguments("len", args, kw, min: 1, max: 1)
        switch args[0] {
        case .string(let s): return .int(Int64(s.unicodeScalars.count))
        case .list(let a), .tuple(let a): return .int(Int64(a.count))
        case .dict(let d): return .int(Int64(d.count))
        case let v: throw RuleError(.type, "object of type '\(v.typeName)' has no len()")
        }
    },
    builtin("min") { env, args, kw in try extremum("min", env, args, kw, sign: -1) },
    builtin("max") { env, args, kw in try extremum("max", env, args, kw, sign: 1) },
    builtin("sum") { env, args, kw in
        let k = try arguments("sum", args, kw, min: 1, max: 2, keywords: ["start"])
        let items = try env.iterate(args[0])
        try env.charge(items.count / 64)
        var total = args.count > 1 ? args[1] : (k["start"] ?? .int(0))
        if case .string = total { throw RuleError(.type, "sum() can't sum strings (use ''.join(seq))") }
        for v in items {
            if case .float(let a) = total, case .float(let b) = v {
                total = .float(a + b)
            } else {
                total = try env.arith(.add, total, v)
            }
        }
        return total
    },
    builtin("any") { env, args, kw in
        _ = try arguments("any", args, kw, min: 1, max: 1)
        return .bool(try env.iterate(args[0]).contains { $0.isTruthy })
    },
    builtin("all") { env, args, kw in
        _ = try arguments("all", args, kw, min: 1, max: 1)
        return .bool(try env.iterate(args[0]).allSatisfy { $0.isTruthy })
    },
    builtin("sorted") { env, args, kw in
        let k = try arguments("sorted", args, kw, min: 1, max: 1, keywords: ["key", "reverse"])
        let items = try env.iterate(args[0])
        try env.charge(items.count)
        let reverse = k["reverse"]?.isTruthy ?? false
        var keyed: [(key: Value, value: Value)] = []
        keyed.reserveCapacity(items.count)
        if let key = k["key"], key != .none {
            for v in items { keyed.append((try env.call1(key, v), v)) }
        } else {
            keyed = items.map { ($0, $0) }
        }
        // Stable: ties keep their order, also when reversed.
        let indexed = keyed.enumerated().map { ($0.offset, $0.element) }
        let sorted = try indexed.sorted { a, b in
            let c = try env.compare(a.1.key, b.1.key)
            if c == 0 { return a.0 < b.0 }
            return reverse ? c > 0 : c < 0
        }
        return .list(sorted.map(\.1.value))
    },
    builtin("reversed") { env, args, kw in
        _ = try arguments("reversed", args, kw, min: 1, max: 1)
        return .list(try env.iterate(args[0]).reversed())
    },
    builtin("abs") { env, args, kw in
        _ = try arguments("abs", args, kw, min: 1, max: 1)
        switch args[0] {
        case .int(let i):
            if i == .min { throw overflow("abs") }
            return .int(Swift.abs(i))
        case .float(let d): return .float(Swift.abs(d))
        case let v: throw RuleError(.type, "bad operand type for abs(): '\(v.typeName)'")
        }
    },
    builtin("round") { env, args, kw in
        let k = try arguments("round", args, kw, min: 1, max: 2, keywords: ["ndigits"])
        let digits = args.count > 1 ? args[1] : (k["ndigits"] ?? .none)
        let x: Double
        switch args[0] {
        case .int(let i): if digits == .none { return .int(i) } else { x = Double(i) }
        case .float(let d): x = d
        case let v: throw RuleError(.type, "round() needs a number, not '\(v.typeName)'")
        }
        switch digits {
        case .none:
            let r = x.rounded(.toNearestOrEven)
            guard let i = Int64(exactly: r) else { throw RuleError(.overflow, "cannot convert \(formatFloat(x)) to int") }
            return .int(i)
        case .int(let n):
            let scale = Foundation.pow(10.0, Double(Swift.max(-308, Swift.min(308, n))))
            return .float((x * scale).rounded(.toNearestOrEven) / scale)
        default: throw RuleError(.type, "round() ndigits must be an integer")
        }
    },
    builtin("int") { env, args, kw in
        let k = try arguments("int", args, kw, min: 0, max: 2, keywords: ["base"])
        guard let x = args.first else { return .int(0) }
        let base = args.count > 1 ? args[1] : k["base"]
        switch x {
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        case .float(let d):
            guard d.isFinite else { throw RuleError(.value, "cannot convert \(formatFloat(d)) to int") }
            guard let i = Int64(exactly: d.rounded(.towardZero)) else { throw RuleError(.overflow, "float \(formatFloat(d)) too large for int") }
            return .int(i)
        case .string(let s):
            var radix = 10
            if let base {
                guard case .int(let b) = base, b >= 2, b <= 36 else { throw RuleError(.value, "int() base must be 2 to 36") }
                radix = Int(b)
            }
            var t = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
            var negative = false
            if t.hasPrefix("-") || t.hasPrefix("+") {
                negative = t.hasPrefix("-")
                t.removeFirst()
            }
            guard let magnitude = UInt64(t, radix: radix),
                  let v = negative ? (magnitude == UInt64(Int64.max) + 1 ? Int64.min : Int64(exactly: magnitude).map { -$0 })
                                   : Int64(exactly: magnitude)
            else { throw RuleError(.value, "invalid literal for int() with base \(radix): \(quote(s))") }
            return .int(v)
        case let v: throw RuleError(.type, "int() argument must be a string or a number, not '\(v.typeName)'")
        }
    },
    builtin("float") { env, args, kw in
        _ = try arguments("float", args, kw, min: 0, max: 1)
        guard let x = args.first else { return .float(0) }
        switch x {
        case .int(let i): return .float(Double(i))
        case .float: return x
        case .bool(let b): return .float(b ? 1 : 0)
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespaces).lowercased()
            switch t {
            case "inf", "+inf", "infinity", "+infinity": return .float(.infinity)
            case "-inf", "-infinity": return .float(-.infinity)
            case "nan", "+nan", "-nan": return .float(.nan)
            default:
                guard !t.isEmpty, t.allSatisfy({ "0123456789.eE+-".contains($0) }), let d = Double(t) else {
                    throw RuleError(.value, "could not convert string to float: \(quote(s))")
                }
                return .float(d)
            }
        case let v: throw RuleError(.type, "float() argument must be a string or a number, not '\(v.typeName)'")
        }
    },
    builtin("str") { env, args, kw in
        _ = try arguments("str", args, kw, min: 0, max: 1)
        return .string(try args.first.map { try env.stringify($0, quoted: false) } ?? "")
    },
    builtin("repr") { env, args, kw in
        _ = try arguments("repr", args, kw, min: 1, max: 1)
        return .string(try env.stringify(args[0], quoted: true))
    },
    builtin("bool") { env, args, kw in
        _ = try arguments("bool", args, kw, min: 0, max: 1)
        return .bool(args.first?.isTruthy ?? false)
    },
    builtin("type") { env, args, kw in
        _ = try arguments("type", args, kw, min: 1, max: 1)
        return .string(args[0].typeName)
    },
    builtin("range") { env, args, kw in
        _ = try arguments("range", args, kw, min: 1, max: 3)
        var ints: [Int64] = []
        for a in args {
            guard case .int(let i) = a else { throw RuleError(.type, "range() arguments must be integers, not '\(a.typeName)'") }
            ints.append(i)
        }
        let (start, stop, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count > 2 ? ints[2] : 1)
        if step == 0 { throw RuleError(.value, "range() step must not be zero") }
        let span = step > 0 ? (stop > start ? (Double(stop) - Double(start)) / Double(step) : 0)
                            : (start > stop ? (Double(start) - Double(stop)) / Double(-step) : 0)
        if span > Double(env.limits.maxCollectionLength) {
            throw RuleError(.limit, "collection of \(formatFloat(span.rounded(.up))) elements exceeds the limit of \(env.limits.maxCollectionLength)")
        }
        let count = Int(span.rounded(.up))
        try env.checkLength(count)
        var out: [Value] = []
        out.reserveCapacity(count)
        var i = start
        for _ in 0..<count {
            out.append(.int(i))
            i = i &+ step
        }
        return .list(out)
    },
    builtin("enumerate") { env, args, kw in
        let k = try arguments("enumerate", args, kw, min: 1, max: 2, keywords: ["start"])
        guard case .int(let start) = args.count > 1 ? args[1] : (k["start"] ?? .int(0)) else {
            throw RuleError(.type, "enumerate() start must be an integer")
        }
        let items = try env.iterate(args[0])
        try env.checkLength(items.count)
        return .list(items.enumerated().map { .tuple([.int(start &+ Int64($0.offset)), $0.element]) })
    },
    builtin("zip") { env, args, kw in
        _ = try arguments("zip", args, kw, min: 0, max: Int.max)
        let lists = try args.map { try env.iterate($0) }
        let n = lists.map(\.count).min() ?? 0
        try env.checkLength(n)
        return .list((0..<n).map { i in .tuple(lists.map { $0[i] }) })
    },
    builtin("list") { env, args, kw in
        _ = try arguments("list", args, kw, min: 0, max: 1)
        return .list(try args.first.map { try env.iterate($0) } ?? [])
    },
    builtin("tuple") { env, args, kw in
        _ = try arguments("tuple", args, kw, min: 0, max: 1)
        return .tuple(try args.first.map { try env.iterate($0) } ?? [])
    },
    builtin("dict") { env, args, kw in
        _ = try arguments("dict", args, kw, min: 0, max: 1, keywords: Set(kw.map(\.name)))
        var d = Dict()
        if let source = args.first {
            if case .dict(let other) = source {
                d = other
            } else {
                for pair in try env.iterate(source) {
                    guard case .list(let kv) = pair.asSequence, kv.count == 2 else {
                        throw RuleError(.value, "dict() needs (key, value) pairs, got '\(pair.typeName)'")
                    }
                    guard kv[0].isHashable else { throw RuleError(.type, "unhashable type: '\(kv[0].typeName)'") }
                    d.set(kv[0], kv[1])
                }
            }
        }
        for (name, v) in kw { d.set(.string(name), v) }
        return .dict(d)
    },
    builtin("hasattr") { env, args, kw in
        _ = try arguments("hasattr", args, kw, min: 2, max: 2)
        guard case .string(let name) = args[1] else { throw RuleError(.type, "hasattr() attribute name must be a string") }
        return .bool((try? env.attribute(args[0], name)) != nil)
    },
    builtin("getattr") { env, args, kw in
        _ = try arguments("getattr", args, kw, min: 2, max: 3)
        guard case .string(let name) = args[1] else { throw RuleError(.type, "getattr() attribute name must be a string") }
        if args.count == 3 { return (try? env.attribute(args[0], name)) ?? args[2] }
        return try env.attribute(args[0], name)
    },
])

/// `min` and `max`: of one iterable or of several arguments, with `key=` and `default=`.
private func extremum(_ fn: String, _ env: Env, _ args: [Value], _ kw: HostFunction.Keywords, sign: Int) throws -> Value {
    let k = try arguments(fn, args, kw, min: 1, max: Int.max, keywords: ["key", "default"])
    let items = args.count == 1 ? try env.iterate(args[0]) : args
    try env.charge(items.count / 64)
    guard var best = items.first else {
        if let d = k["default"] { return d }
        throw RuleError(.value, "\(fn)() arg is an empty sequence")
    }
    let key = k["key"].flatMap { $0 == .none ? nil : $0 }
    var bestKey = try key.map { try env.call1($0, best) } ?? best
    for v in items.dropFirst() {
        let vk = try key.map { try env.call1($0, v) } ?? v
        if case .int(let a) = vk, case .int(let b) = bestKey {
            if sign > 0 ? a > b : a < b {
                best = v
                bestKey = vk
            }
        } else if try env.compare(vk, bestKey) * sign > 0 {
            best = v
            bestKey = vk
        }
    }
    return best
}
