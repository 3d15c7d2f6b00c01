import Foundation

/// Binary arithmetic operators.
enum ArithOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", floorDiv = "//", mod = "%", pow = "**"
}

func unsupported(_ op: String, _ a: Value, _ b: Value) -> RuleError {
    RuleError(.type, "unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'")
}

func overflow(_ op: String) -> RuleError {
    RuleError(.overflow, "integer overflow in \(op) (integers are 64-bit)")
}

extension Env {
    /// `a op b` with Python semantics for numbers (floor division and modulo of negatives, int/float promotion).
    func arith(_ op: ArithOp, _ a: Value, _ b: Value) throws -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)): return try intArith(op, x, y)
        case (.int(let x), .float(let y)): return try floatArith(op, Double(x), y)
        case (.float(let x), .int(let y)): return try floatArith(op, x, Double(y))
        case (.float(let x), .float(let y)): return try floatArith(op, x, y)
        default: break
        }
        switch (op, a, b) {
        case (.add, .string(let x), .string(let y)):
            try checkString(x.unicodeScalars.count + y.unicodeScalars.count)
            return .string(x + y)
        case (.add, .list(let x), .list(let y)):
            try checkLength(x.count + y.count)
            return .list(x + y)
        case (.add, .tuple(let x), .tuple(let y)):
            try checkLength(x.count + y.count)
            return .tuple(x + y)
        case (.mul, .string(let s), .int(let n)), (.mul, .int(let n), .string(let s)):
            let count = s.unicodeScalars.count
            guard n > 0, count > 0 else { return .string("") }
            let (total, o) = Int64(count).multipliedReportingOverflow(by: n)
            try checkString(o ? Int.max : Int(total))
            return .string(String(repeating: s, count: Int(n)))
        case (.mul, .list(let a), .int(let n)), (.mul, .int(let n), .list(let a)):
            return .list(try repeated(a, n))
        case (.mul, .tuple(let a), .int(let n)), (.mul, .int(let n), .tuple(let a)):
            return .tuple(try repeated(a, n))
        case (.mod, .string(let format), _):
            return .string(try percentFormat(format, b))
        default:
            throw unsupported(op.rawValue, a, b)
        }
    }

    private func repeated(_ a: [Value], _ n: Int64) throws -> [Value] {
        guard n > 0, !a.isEmpty else { return [] }
        let (total, o) = Int64(a.count).multipliedReportingOverflow(by: n)
        try checkLength(o ? Int.max : Int(total))
        var out: [Value] = []
        out.reserveCapacity(Int(total))
        for _ in 0..<n { out.append(contentsOf: a) }
        return out
    }

    private func intArith(_ op: ArithOp, _ x: Int64, _ y: Int64) throws -> Value {
        switch op {
        case .add:
            let (r, o) = x.addingReportingOverflow(y)
            if o { throw overflow("+") }
            return .int(r)
        case .sub:
            let (r, o) = x.subtractingReportingOverflow(y)
            if o { throw overflow("-") }
            return .int(r)
        case .mul:
            let (r, o) = x.multipliedReportingOverflow(by: y)
            if o { throw overflow("*") }
            return .int(r)
        case .div:
            if y == 0 { throw RuleError(.zeroDivision, "division by zero") }
            return .float(Double(x) / Double(y))
        case .floorDiv:
            if y == 0 { throw RuleError(.zeroDivision, "integer division by zero") }
            if x == .min && y == -1 { throw overflow("//") }
            var q = x / y
            if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
            return .int(q)
        case .mod:
            if y == 0 { throw RuleError(.zeroDivision, "integer modulo by zero") }
            if y == -1 { return .int(0) }
            var r = x % y
            if r != 0 && ((r < 0) != (y < 0)) { r += y }
            return .int(r)
        case .pow:
            if y < 0 {
                if x == 0 { throw RuleError(.zeroDivision, "0 cannot be raised to a negative power") }
                return .float(Foundation.pow(Double(x), Double(y)))
            }
            var result: Int64 = 1, base = x, e = y
            while e > 0 {
                if e & 1 == 1 {
                    let (r, o) = result.multipliedReportingOverflow(by: base)
                    if o { throw overflow("**") }
                    result = r
                }
                e >>= 1
                if e > 0 {
                    let (b2, o) = base.multipliedReportingOverflow(by: base)
                    if o { throw overflow("**") }
                    base = b2
                }
            }
            return .int(result)
        }
    }

    private func floatArith(_ op: ArithOp, _ x: Double, _ y: Double) throws -> Value {
        switch op {
        case .add: return .float(x + y)
        case .sub: return .float(x - y)
        case .mul: return .float(x * y)
        case .div:
            if y == 0 { throw RuleError(.zeroDivision, "float division by zero") }
            return .float(x / y)
        case .floorDiv:
            if y == 0 { throw RuleError(.zeroDivision, "float floor division by zero") }
            return .float((x / y).rounded(.down))
        case .mod:
            if y == 0 { throw RuleError(.zeroDivision, "float modulo by zero") }
            var r = fmod(x, y)
            if r != 0 && ((r < 0) != (y < 0)) { r += y }
            return .float(r)
        case .pow:
            if x == 0 && y < 0 { throw RuleError(.zeroDivision, "0.0 cannot be raised to a negative power") }
            let r = Foundation.pow(x, y)
            if r.isNaN && !x.isNaN && !y.isNaN {
                throw RuleError(.value, "negative number cannot be raised to a fractional power")
            }
            return .float(r)
        }
    }

    /// Ordering for `<`, `<=`, `>`, `>=`, `sorted`, `min` and `max`: numbers, strings, and lists or tuples element-wise.
    func compare(_ a: Value, _ b: Value) throws -> Int {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.float(let x), .float(let y)): return try floatCompare(x, y)
        case (.int(let x), .float(let y)): return try floatCompare(Double(x), y)
        case (.float(let x), .int(let y)): return try floatCompare(x, Double(y))
        case (.string(let x), .string(let y)):
            return x == y ? 0 : (x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : 1)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            try charge(min(x.count, y.count) / 64)
            for (p, q) in zip(x, y) {
                if p == q { continue }
                return try compare(p, q)
            }
            return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
        default:
            throw RuleError(.type, "cannot compare '\(a.typeName)' with '\(b.typeName)'")
        }
    }

    private func floatCompare(_ x: Double, _ y: Double) throws -> Int {
        if x.isNaN || y.isNaN { return x.isNaN && y.isNaN ? 0 : (x.isNaN ? 1 : -1) }
        return x < y ? -1 : (x > y ? 1 : 0)
    }

    /// `needle in haystack`.
    func contains(_ haystack: Value, _ needle: Value) throws -> Bool {
        switch haystack {
        case .list(let a), .tuple(let a):
            try charge(a.count / 64)
            return a.contains(needle)
        case .dict(let d):
            guard needle.isHashable else { throw RuleError(.type, "unhashable type: '\(needle.typeName)'") }
            return d[needle] != nil
        case .string(let s):
            guard case .string(let sub) = needle else {
                throw RuleError(.type, "'in <str>' requires a string as left operand, not '\(needle.typeName)'")
            }
            try charge(s.utf8.count / 1024)
            return sub.isEmpty || s.contains(sub)
        default:
            throw RuleError(.type, "'in' is not supported by '\(haystack.typeName)'")
        }
    }

    /// `x[i]` for lists, tuples, strings and dicts (negative indices count from the end).
    func index(_ x: Value, _ i: Value) throws -> Value {
        switch x {
        case .list(let a), .tuple(let a):
            return a[try position(i, count: a.count, x)]
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            return .string(String(scalars[try position(i, count: scalars.count, x)]))
        case .dict(let d):
            guard i.isHashable else { throw RuleError(.type, "unhashable type: '\(i.typeName)'") }
            guard let v = d[i] else { throw RuleError(.key, "key \(i.repr) not in dict") }
            return v
        default:
            throw RuleError(.type, "'\(x.typeName)' object is not subscriptable")
        }
    }

    private func position(_ i: Value, count: Int, _ x: Value) throws -> Int {
        guard case .int(let n) = i else {
            throw RuleError(.type, "\(x.typeName) indices must be integers, not '\(i.typeName)'")
        }
        let p = n < 0 ? Int64(count) + n : n
        guard p >= 0, p < Int64(count) else {
            throw RuleError(.index, "index \(n) out of range: \(x.typeName) has \(count) element\(count == 1 ? "" : "s")")
        }
        return Int(p)
    }

    /// `x[start:stop:step]` with Python's clamping rules.
    func slice(_ x: Value, _ start: Value, _ stop: Value, _ step: Value) throws -> Value {
        func bound(_ v: Value, _ name: String) throws -> Int64? {
            switch v {
            case .none: return nil
            case .int(let i): return i
            default: throw RuleError(.type, "slice \(name) must be an integer or None, not '\(v.typeName)'")
            }
        }
        let st = try bound(step, "step") ?? 1
        if st == 0 { throw RuleError(.value, "slice step cannot be zero") }
        func indices(_ n: Int) throws -> [Int] {
            let len = Int64(n)
            func clamp(_ v: Int64?, _ def: Int64) -> Int64 {
                guard var v else { return def }
                if v < 0 { v += len }
                return st > 0 ? min(max(v, 0), len) : min(max(v, -1), len - 1)
            }
            let lo = clamp(try bound(start, "start"), st > 0 ? 0 : len - 1)
            let hi = clamp(try bound(stop, "stop"), st > 0 ? len : -1)
            var out: [Int] = []
            var i = lo
            while st > 0 ? i < hi : i > hi {
                out.append(Int(i))
                let (next, o) = i.addingReportingOverflow(st)
                if o { break }
                i = next
            }
            try charge(out.count / 64)
            return out
        }
        switch x {
        case .list(let a): return .list(try indices(a.count).map { a[$0] })
        case .tuple(let a): return .tuple(try indices(a.count).map { a[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            if st == 1 {
                let r = try indices(scalars.count)
                guard let f = r.first, let l = r.last else { return .string("") }
                return .string(String(String.UnicodeScalarView(scalars[f...l])))
            }
            return .string(String(String.UnicodeScalarView(try indices(scalars.count).map { scalars[$0] })))
        default:
            throw RuleError(.type, "'\(x.typeName)' object cannot be sliced")
        }
    }

    /// `format % args` with `%s`, `%r`, `%d`, `%i`, `%f`, `%x`, `%%`.
    private func percentFormat(_ format: String, _ args: Value) throws -> String {
        var items: [Value]
        if case .tuple(let t) = args { items = t } else { items = [args] }
        var out = ""
        var it = format.unicodeScalars.makeIterator()
        var used = 0
        while let c = it.next() {
            guard c == "%" else {
                out.unicodeScalars.append(c)
                continue
            }
            guard let f = it.next() else { throw RuleError(.value, "incomplete format") }
            if f == "%" {
                out += "%"
                continue
            }
            guard used < items.count else { throw RuleError(.type, "not enough arguments for format string") }
            let v = items[used]
            used += 1
            switch f {
            case "s": out += v.str
            case "r": out += v.repr
            case "d", "i":
                switch v {
                case .int(let i): out += String(i)
                case .float(let d) where Int64(exactly: d.rounded(.towardZero)) != nil:
                    out += String(Int64(d.rounded(.towardZero)))
                default: throw RuleError(.type, "%\(f) format requires a number, not '\(v.typeName)'")
                }
            case "f":
                switch v {
                case .int(let i): out += String(format: "%f", Double(i))
                case .float(let d): out += String(format: "%f", d)
                default: throw RuleError(.type, "%f format requires a number, not '\(v.typeName)'")
                }
            case "x":
                guard case .int(let i) = v else { throw RuleError(.type, "%x format requires an integer") }
                out += String(i, radix: 16)
            default: throw RuleError(.value, "unsupported format character '\(f)'")
            }
            try checkString(out.utf8.count)
        }
        if used < items.count { throw RuleError(.type, "not all arguments converted during string formatting") }
        return out
    }
}
