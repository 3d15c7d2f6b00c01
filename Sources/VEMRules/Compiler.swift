import VEMCore

/// Turns syntax trees into closures with every name resolved to a slot (no lookups by name at run time),
/// and reports static errors: unknown names (with "did you mean") and calls of literals that are not callable.
struct Compiler {
    let source: SourceText
    let knownGlobals: Set<String>
    private(set) var globalNames: [String] = []
    private(set) var globalLocations: [SourceLocation] = []
    private var globalIndex: [String: Int] = [:]
    /// Local scopes, innermost last: name → slot.
    private var scopes: [[String: Int]] = []
    /// Lambdas being compiled, outermost first.
    private var frames: [Frame] = []
    private(set) var localCount = 0
    private(set) var lambdaCount = 0
    private(set) var diagnostics: [Diagnostic] = []

    private struct Frame {
        /// Index in `scopes` of the lambda's parameter scope.
        var scopeIndex: Int
        var captureMap: [Int: Int] = [:]
        var captures: [(outer: Int, inner: Int)] = []
    }

    enum Resolved {
        case local(Int), global(Int), builtin(Builtin), undefined
    }

    init(source: SourceText, knownGlobals: Set<String>) {
        self.source = source
        self.knownGlobals = knownGlobals
    }

    func loc(_ p: Pos) -> SourceLocation { source.location(line: p.line, column: p.column) }

    private mutating func error(_ p: Pos, _ message: String) {
        diagnostics.append(.error(at: loc(p), message, length: p.length))
    }

    private mutating func newSlot() -> Int {
        localCount += 1
        return localCount - 1
    }

    mutating func resolve(_ name: String, _ p: Pos) -> Resolved {
        for si in scopes.indices.reversed() {
            guard let slot = scopes[si][name] else { continue }
            var s = slot
            for fi in frames.indices where frames[fi].scopeIndex > si {
                if let inner = frames[fi].captureMap[s] {
                    s = inner
                } else {
                    let n = newSlot()
                    frames[fi].captureMap[s] = n
                    frames[fi].captures.append((s, n))
                    s = n
                }
            }
            return .local(s)
        }
        if knownGlobals.contains(name) {
            if let i = globalIndex[name] { return .global(i) }
            globalIndex[name] = globalNames.count
            globalNames.append(name)
            globalLocations.append(loc(p))
            return .global(globalNames.count - 1)
        }
        if let b = builtins[name] { return .builtin(b) }
        return .undefined
    }

    mutating func compile(_ e: Expr) -> Code {
        switch e {
        case .literal(let v, _):
            return { _ in v }
        case .name(let name, let p):
            switch resolve(name, p) {
            case .local(let slot): return { env in env.locals[slot] }
            case .global(let i): return { env in env.globals[i] }
            case .builtin(let b):
                let v = Value.function(Callable(.builtin(b), name: b.name))
                return { _ in v }
            case .undefined:
                var message = "undefined name '\(name)'"
                let visible = scopes.flatMap(\.keys) + Array(knownGlobals) + Array(builtins.keys)
                if let hint = closestMatch(to: name, in: visible.sorted()) { message += "; did you mean '\(hint)'?" }
                error(p, message)
                return { _ in .none }
            }
        case .unary(let op, let x, let p):
            return compileUnary(op, compile(x), loc(p), p.length)
        case .binary(let op, let l, let r, let p):
            return compileBinary(op, compile(l), compile(r), loc(p), p.length)
        case .compare(let first, let rest):
            return compileCompare(compile(first), rest.map { (op: $0.op, code: compile($0.rhs), pos: $0.pos) })
        case .conditional(let t, let c, let o, _):
            let (tc, cc, oc) = (compile(t), compile(c), compile(o))
            return { env in try cc(env).isTruthy ? try tc(env) : try oc(env) }
        case .lambda(let params, let body, let p):
            return compileLambda(params, body, p)
        case .attribute(let x, let name, let p):
            let xc = compile(x)
            let (l, n) = (loc(p), p.length)
            return { env in
                let v = try xc(env)
                return try located(l, n) { try env.attribute(v, name) }
            }
        case .index(let x, let i, let p):
            let (xc, ic) = (compile(x), compile(i))
            let (l, n) = (loc(p), p.length)
            return { env in
                let v = try xc(env)
                let k = try ic(env)
                return try located(l, n) { try env.index(v, k) }
            }
        case .slice(let x, let a, let b, let c, let p):
            let xc = compile(x)
            let parts = [a, b, c].map { $0.map { compile($0) } }
            let (l, n) = (loc(p), p.length)
            return { env in
                let v = try xc(env)
                let lo = try parts[0]?(env) ?? .none
                let hi = try parts[1]?(env) ?? .none
                let st = try parts[2]?(env) ?? .none
                return try located(l, n) { try env.slice(v, lo, hi, st) }
            }
        case .call(let callee, let args, let p):
            return compileCall(callee, args, p)
        case .list(let items, _):
            let codes = items.map { compile($0) }
            return { env in
                var out: [Value] = []
                out.reserveCapacity(codes.count)
                for c in codes { out.append(try c(env)) }
                return .list(out)
            }
        case .tuple(let items, _):
            let codes = items.map { compile($0) }
            return { env in
                var out: [Value] = []
                out.reserveCapacity(codes.count)
                for c in codes { out.append(try c(env)) }
                return .tuple(out)
            }
        case .dict(let entries, _):
            let codes = entries.map { (key: compile($0.key), value: compile($0.value), loc: loc($0.key.start),
                                       len: $0.key.start.length) }
            return { env in
                var d = Dict()
                for c in codes {
                    let k = try c.key(env)
                    guard k.isHashable else {
                        throw RuleError(.type, "unhashable type: '\(k.typeName)'", at: c.loc, length: c.len)
                    }
                    d.set(k, try c.value(env))
                }
                return .dict(d)
            }
        case .listComprehension(let body, let clauses, _):
            return compileComprehension(clauses, key: nil, value: body)
        case .dictComprehension(let key, let value, let clauses, _):
            return compileComprehension(clauses, key: key, value: value)
        }
    }

    private func compileUnary(_ op: String, _ x: @escaping Code, _ l: SourceLocation, _ n: Int) -> Code {
        switch op {
        case "not":
            return { env in .bool(!(try x(env)).isTruthy) }
        case "-":
            return { env in
                switch try x(env) {
                case .int(let i):
                    if i == .min { throw RuleError(.overflow, "integer overflow in unary -", at: l, length: n) }
                    return .int(-i)
                case .float(let d): return .float(-d)
                case let v: throw RuleError(.type, "bad operand type for unary -: '\(v.typeName)'", at: l, length: n)
                }
            }
        default:
            return { env in
                switch try x(env) {
                case let v where v.isNumber: return v
                case let v: throw RuleError(.type, "bad operand type for unary +: '\(v.typeName)'", at: l, length: n)
                }
            }
        }
    }

    private func compileBinary(_ op: String, _ a: @escaping Code, _ b: @escaping Code, _ l: SourceLocation,
                               _ n: Int) -> Code {
        if op == "and" { return { env in let x = try a(env); return x.isTruthy ? try b(env) : x } }
        if op == "or" { return { env in let x = try a(env); return x.isTruthy ? x : try b(env) } }
        let arith = ArithOp(rawValue: op) ?? .add
        return { env in
            let x = try a(env)
            let y = try b(env)
            return try located(l, n) { try env.arith(arith, x, y) }
        }
    }

    private func compileCompare(_ first: @escaping Code, _ rest: [(op: String, code: Code, pos: Pos)]) -> Code {
        let ops = rest.map { (op: CompareOp(rawValue: $0.op) ?? .eq, code: $0.code, loc: loc($0.pos), len: $0.pos.length) }
        if ops.count == 1 {
            let c = ops[0]
            return { env in
                let x = try first(env)
                let y = try c.code(env)
                return .bool(try located(c.loc, c.len) { try env.compare(c.op, x, y) })
            }
        }
        return { env in
            var x = try first(env)
            for c in ops {
                let y = try c.code(env)
                if !(try located(c.loc, c.len) { try env.compare(c.op, x, y) }) { return .bool(false) }
                x = y
            }
            return .bool(true)
        }
    }

    private mutating func compileLambda(_ params: [Param], _ body: Expr, _ p: Pos) -> Code {
        let defaults = params.map { $0.defaultValue.map { compile($0) } }
        var scope: [String: Int] = [:]
        var parameters: [LambdaCode.Parameter] = []
        for param in params {
            let slot = newSlot()
            scope[param.name] = slot
            parameters.append(.init(name: param.name, slot: slot))
        }
        scopes.append(scope)
        frames.append(Frame(scopeIndex: scopes.count - 1))
        let bodyCode = compile(body)
        let frame = frames.removeLast()
        scopes.removeLast()
        let code = LambdaCode(id: lambdaCount, params: parameters, captures: frame.captures, body: bodyCode,
                              location: loc(p))
        lambdaCount += 1
        return { env in
            let captured = code.captures.map { env.locals[$0.outer] }
            var values: [Value?] = []
            for d in defaults { values.append(try d?(env)) }
            return .function(Callable(.lambda(LambdaValue(code: code, captured: captured, defaults: values)),
                                      name: "lambda"))
        }
    }

    private mutating func compileArguments(_ args: [Argument]) -> ([Code], [(name: String, code: Code)]) {
        var positional: [Code] = []
        var keyword: [(name: String, code: Code)] = []
        for a in args {
            if let name = a.name { keyword.append((name, compile(a.value))) } else { positional.append(compile(a.value)) }
        }
        return (positional, keyword)
    }

    private mutating func compileCall(_ callee: Expr, _ args: [Argument], _ p: Pos) -> Code {
        let l = loc(p)
        let (positional, keyword) = compileArguments(args)
        @Sendable func evalArgs(_ env: Env) throws -> ([Value], HostFunction.Keywords) {
            var a: [Value] = []
            a.reserveCapacity(positional.count)
            for c in positional { a.append(try c(env)) }
            var k: HostFunction.Keywords = []
            if !keyword.isEmpty {
                for c in keyword { k.append((c.name, try c.code(env))) }
            }
            return (a, k)
        }
        switch callee {
        case .attribute(let receiver, let name, let np):
            let rc = compile(receiver)
            let (ml, mn) = (loc(np), np.length)
            return { env in
                let r = try rc(env)
                let (a, k) = try evalArgs(env)
                return try located(ml, mn) {
                    try env.charge()
                    return try env.callMethod(r, name, a, k)
                }
            }
        case .name(let name, let np):
            if scopes.allSatisfy({ $0[name] == nil }), !knownGlobals.contains(name), let b = builtins[name] {
                let n = np.length
                let general: Code = { env in
                    let (a, k) = try evalArgs(env)
                    return try located(l, n) {
                        try env.charge()
                        return try b.fn(env, a, k)
                    }
                }
                return columnExtremum(name, args, general: general) ?? columnLength(name, args, general: general) ?? general
            }
        case .literal(let v, let lp):
            error(lp, "'\(v.typeName)' object is not callable")
        case .list(_, let lp), .listComprehension(_, _, let lp):
            error(lp, "'list' object is not callable")
        case .dict(_, let lp), .dictComprehension(_, _, _, let lp):
            error(lp, "'dict' object is not callable")
        case .tuple(_, let lp):
            error(lp, "'tuple' object is not callable")
        default:
            break
        }
        let cc = compile(callee)
        let n = callee.start.length
        return { env in
            let f = try cc(env)
            let (a, k) = try evalArgs(env)
            return try located(l, n) { try env.call(f, a, k) }
        }
    }

    private mutating func compileComprehension(_ clauses: [Clause], key: Expr?, value: Expr) -> Code {
        scopes.append([:])
        defer { scopes.removeLast() }
        enum Compiled {
            case forIn(iterable: Code, slots: [Int], unpack: Bool, loc: SourceLocation, len: Int)
            case filter(Code)
        }
        var compiled: [Compiled] = []
        for clause in clauses {
            switch clause {
            case .forIn(let targets, let unpack, let iterable, let p):
                let ic = compile(iterable)
                var slots: [Int] = []
                for t in targets {
                    let s = newSlot()
                    scopes[scopes.count - 1][t.name] = s
                    slots.append(s)
                }
                compiled.append(.forIn(iterable: ic, slots: slots, unpack: unpack, loc: loc(p), len: 3))
            case .filter(let cond):
                compiled.append(.filter(compile(cond)))
            }
        }
        let valueCode = compile(value)
        let keyCode = key.map { compile($0) }
        let keyLoc = key.map { (loc($0.start), $0.start.length) }
        var step: @Sendable (Env, Accumulator) throws -> Void
        if let keyCode, let keyLoc {
            step = { env, acc in
                let k = try keyCode(env)
                guard k.isHashable else {
                    throw RuleError(.type, "unhashable type: '\(k.typeName)'", at: keyLoc.0, length: keyLoc.1)
                }
                acc.dict.set(k, try valueCode(env))
                try env.account(2 * MemoryLayout<Value>.stride)
            }
        } else {
            step = { env, acc in
                acc.list.append(try valueCode(env))
                try env.account(MemoryLayout<Value>.stride)
            }
        }
        for clause in compiled.reversed() {
            let next = step
            switch clause {
            case .filter(let cond):
                step = { env, acc in if try cond(env).isTruthy { try next(env, acc) } }
            case .forIn(let iterable, let slots, let unpack, let l, let n):
                if !unpack, let slot = slots.first {
                    step = { env, acc in
                        let seq = try located(l, n) { try env.iterate(try iterable(env)) }
                        try located(l, n) {
                            for v in seq {
                                try env.charge()
                                env.locals[slot] = v
                                try next(env, acc)
                            }
                        }
                    }
                } else {
                    step = { env, acc in
                        let seq = try located(l, n) { try env.iterate(try iterable(env)) }
                        try located(l, n) {
                            for v in seq {
                                try env.charge()
                                guard case .list(let parts) = v.asSequence, parts.count == slots.count else {
                                    throw RuleError(.value, "cannot unpack '\(v.typeName)' into \(slots.count) variables")
                                }
                                for (s, x) in zip(slots, parts) { env.locals[s] = x }
                                try next(env, acc)
                            }
                        }
                    }
                }
            }
        }
        let run = step
        let isDict = key != nil
        let general: Code = { env in
            let acc = Accumulator()
            try run(env, acc)
            return isDict ? .dict(acc.dict) : .list(acc.list)
        }
        return columnComprehension(clauses, key: key, value: value, general: general) ?? general
    }
}

/// Where a comprehension collects its results.
final class Accumulator {
    var list: [Value] = []
    var dict = Dict()
}

/// Comparison operators.
enum CompareOp: String, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", isIn = "in", notIn = "not in"
}

extension Env {
    /// `a op b` for the comparison operators.
    @inline(__always)
    func compare(_ op: CompareOp, _ a: Value, _ b: Value) throws -> Bool {
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case .eq: return x == y
            case .ne: return x != y
            case .lt: return x < y
            case .le: return x <= y
            case .gt: return x > y
            case .ge: return x >= y
            default: break
            }
        }
        switch op {
        case .eq: return a == b
        case .ne: return a != b
        case .lt: return try compare(a, b) < 0
        case .le: return try compare(a, b) <= 0
        case .gt: return try compare(a, b) > 0
        case .ge: return try compare(a, b) >= 0
        case .isIn: return try contains(b, a)
        case .notIn: return !(try contains(b, a))
        }
    }
}

extension Value {
    var isNumber: Bool {
        switch self {
        case .int, .float: true
        default: false
        }
    }

    /// Lists and tuples as `.list`, for unpacking.
    var asSequence: Value {
        switch self {
        case .tuple(let a): .list(a)
        default: self
        }
    }
}
