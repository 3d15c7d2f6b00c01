/// Fast paths over the lists of a ``ColumnarHostObject`` (`manager.clients`).
///
/// Each one is compiled next to the general code for the same syntax and decides at run time: it runs only when
/// the receiver is columnar and every value it reads has a type it handles (all `int`, or all `float` without NaN),
/// and when the step budget and the memory ceiling suffice for the whole computation; otherwise the general code
/// runs, so an error (a missing attribute, `None`, a mixed list, a spent budget) is the general path's, at the
/// same element. When it runs, it charges the steps and bytes the general code would have.
extension Compiler {
    /// `t.attr OP number`, a comprehension filter on a column.
    struct ColumnFilter: Sendable {
        var attribute: String
        var op: CompareOp
        var literal: Value
    }

    /// What a columnar comprehension collects: the element itself, or one of its attributes.
    enum ColumnBody: Sendable {
        case element
        case attribute(String)
    }

    /// `R.L` with `R` a global: its slot and the list's name.
    private mutating func globalList(_ e: Expr, excluding: String? = nil) -> (global: Int, list: String)? {
        guard case .attribute(.name(let r, let rp), let list, _) = e, r != excluding,
            case .global(let g) = resolve(r, rp)
        else { return nil }
        return (g, list)
    }

    /// `t.attr` for the variable `t`.
    private func attributeOf(_ e: Expr, _ t: String) -> String? {
        guard case .attribute(.name(let n, _), let a, _) = e, n == t else { return nil }
        return a
    }

    /// The columnar form of `[t for t in R.L if t.a OP k …]` or `[t.b for t in R.L if …]`, when it has that shape.
    /// Call it while the comprehension's scope is the innermost.
    mutating func columnComprehension(_ clauses: [Clause], key: Expr?, value: Expr, general: @escaping Code) -> Code? {
        guard key == nil, case .forIn(let targets, false, let iterable, _)? = clauses.first, targets.count == 1
        else { return nil }
        let t = targets[0].name
        guard let (g, list) = globalList(iterable, excluding: t) else { return nil }
        var filters: [ColumnFilter] = []
        for clause in clauses.dropFirst() {
            guard case .filter(.compare(let lhs, let rest)) = clause, rest.count == 1,
                let attribute = attributeOf(lhs, t), let op = CompareOp(rawValue: rest[0].op), op != .isIn,
                op != .notIn, case .literal(let k, _) = rest[0].rhs, k.isNumber
            else { return nil }
            filters.append(ColumnFilter(attribute: attribute, op: op, literal: k))
        }
        let body: ColumnBody
        if case .name(let n, _) = value, n == t {
            body = .element
        } else if let b = attributeOf(value, t) {
            body = .attribute(b)
        } else {
            return nil
        }
        let columnFilters = filters
        return { env in
            guard case .object(let o) = env.globals[g], let m = o as? any ColumnarHostObject,
                let result = try runColumnComprehension(env, m, list, columnFilters, body)
            else { return try general(env) }
            env.fastPaths += 1
            return result
        }
    }

    /// The columnar form of `max(R.L, key=lambda t: t.a)` (or `min`), when the call has that shape.
    mutating func columnExtremum(_ fn: String, _ args: [Argument], general: @escaping Code) -> Code? {
        guard fn == "max" || fn == "min", args.count == 2, args[0].name == nil, args[1].name == "key",
            case .lambda(let params, let lambdaBody, _) = args[1].value, params.count == 1,
            params[0].defaultValue == nil, let attribute = attributeOf(lambdaBody, params[0].name),
            let (g, list) = globalList(args[0].value)
        else { return nil }
        let sign = fn == "max" ? 1 : -1
        return { env in
            guard case .object(let o) = env.globals[g], let m = o as? any ColumnarHostObject,
                let column = m.column(attribute, of: list), !column.elements.isEmpty,
                env.callDepth < env.limits.maxCallDepth
            else { return try general(env) }
            let n = column.elements.count
            // The call (1), `min`/`max`'s share of the list (n / 64) and one call of the key per element (n).
            let cost = 1 + n / 64 + n
            guard env.steps <= env.maxSteps - cost else { return try general(env) }
            let best: Int
            if let ints = column.ints {
                best = extremumIndex(ints, sign: sign)
            } else if let floats = column.floats {
                best = extremumIndex(floats, sign: sign)
            } else {
                return try general(env)
            }
            try env.charge(cost)
            env.fastPaths += 1
            return column.elements[best]
        }
    }
}

extension Compiler {
    /// The columnar form of `len(R.L)`: the object says how many elements the list has without building it (the
    /// Manager's `len(manager.clients)`, in the default `vem.poll`, then builds no object per Client). It charges
    /// the call's step, as the general code does.
    mutating func columnLength(_ fn: String, _ args: [Argument], general: @escaping Code) -> Code? {
        guard fn == "len", args.count == 1, args[0].name == nil, let (g, list) = globalList(args[0].value)
        else { return nil }
        return { env in
            guard case .object(let o) = env.globals[g], let m = o as? any ColumnarHostObject,
                env.steps < env.maxSteps, let n = m.count(of: list)
            else { return try general(env) }
            try env.charge()
            env.fastPaths += 1
            return .int(Int64(n))
        }
    }
}

/// The first index of the greatest (`sign` 1) or least (-1) value: ties keep the earliest, as `max`/`min` do.
@inline(__always)
private func extremumIndex<T: Comparable>(_ xs: [T], sign: Int) -> Int {
    var best = 0
    var bestValue = xs[0]
    if sign > 0 {
        for i in 1..<xs.count where xs[i] > bestValue {
            best = i
            bestValue = xs[i]
        }
    } else {
        for i in 1..<xs.count where xs[i] < bestValue {
            best = i
            bestValue = xs[i]
        }
    }
    return best
}

/// The comprehension over `m.<list>`'s columns, or nil when the general code must run instead.
private func runColumnComprehension(
    _ env: Env, _ m: any ColumnarHostObject, _ list: String, _ filters: [Compiler.ColumnFilter],
    _ body: Compiler.ColumnBody
) throws -> Value? {
    var selected: [Int]? = nil  // nil: every element
    var elements: [Value]? = nil
    for f in filters {
        guard let column = m.column(f.attribute, of: list) else { return nil }
        elements = column.elements
        if let ints = column.ints, case .int(let k) = f.literal {
            selected = select(ints, f.op, k, selected)
        } else if let floats = column.floats, let k = exactDouble(f.literal) {
            selected = select(floats, f.op, k, selected)
        } else {
            return nil
        }
    }
    let values: [Value]
    switch body {
    case .element:
        if elements == nil {
            guard case .list(let all)? = try? m.attribute(named: list) else { return nil }
            elements = all
        }
        values = elements ?? []
    case .attribute(let b):
        guard let column = m.column(b, of: list), let v = column.values else { return nil }
        elements = column.elements
        values = v
    }
    let n = elements?.count ?? 0
    let out = selected.map { $0.map { values[$0] } } ?? values
    // One step per element iterated, and a value's bytes per element collected.
    let bytes = out.count * MemoryLayout<Value>.stride
    guard env.steps <= env.maxSteps - n, env.built <= env.limits.maxBuiltBytes - bytes else { return nil }
    try env.charge(n)
    try env.account(bytes)
    return .list(out)
}

/// A numeric literal as the float the general comparison would compare a float with (nil when not exact).
private func exactDouble(_ v: Value) -> Double? {
    switch v {
    case .float(let d): return d.isNaN ? nil : d
    case .int(let i):
        let d = Double(i)
        return Int64(exactly: d) == i ? d : nil
    default: return nil
    }
}

/// The indices (among `candidates`, or all) whose value satisfies `x op k`.
private func select<T: Comparable>(_ xs: [T], _ op: CompareOp, _ k: T, _ candidates: [Int]?) -> [Int] {
    switch op {
    case .lt: return select(xs, candidates) { $0 < k }
    case .le: return select(xs, candidates) { $0 <= k }
    case .gt: return select(xs, candidates) { $0 > k }
    case .ge: return select(xs, candidates) { $0 >= k }
    case .eq: return select(xs, candidates) { $0 == k }
    case .ne, .isIn, .notIn: return select(xs, candidates) { $0 != k }
    }
}

@inline(__always)
private func select<T>(_ xs: [T], _ candidates: [Int]?, _ keep: (T) -> Bool) -> [Int] {
    var out: [Int] = []
    if let candidates {
        for i in candidates where keep(xs[i]) { out.append(i) }
    } else {
        for i in xs.indices where keep(xs[i]) { out.append(i) }
    }
    return out
}
