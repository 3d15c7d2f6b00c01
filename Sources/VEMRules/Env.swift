import VEMCore

/// The state of one evaluation: variable slots, the step counter and the limits.
///
/// Created by ``CompiledProgram/evaluate(globals:limits:trigger:)`` for each evaluation and
/// never shared, so compiled code can mutate it without locks.
final class Env {
    /// Values of the referenced globals, by slot.
    var globals: [Value]
    /// Values of locals (comprehension variables, lambda parameters and captures), by slot.
    var locals: [Value]
    /// Steps taken so far.
    var steps = 0
    /// Bytes built so far (see ``Limits/maxBuiltBytes``).
    var built = 0
    let maxSteps: Int
    let limits: Limits
    /// The trigger (or other caller) named in limit errors.
    let trigger: String?
    var callDepth = 0
    /// Fast paths taken (tests check that the columnar ones run).
    var fastPaths = 0
    /// Per lambda code: currently active (recursion is not allowed).
    var active: [Bool]

    init(globals: [Value], localCount: Int, lambdaCount: Int, limits: Limits, trigger: String?) {
        self.globals = globals
        self.locals = Array(repeating: .none, count: localCount)
        self.active = Array(repeating: false, count: lambdaCount)
        self.limits = limits
        self.maxSteps = limits.maxSteps
        self.trigger = trigger
    }

    private var inTrigger: String { trigger.map { " in trigger '\($0)'" } ?? "" }

    /// Counts `n` steps; throws when the budget is spent.
    @inline(__always)
    func charge(_ n: Int = 1) throws {
        steps &+= n
        if steps > maxSteps { throw budgetExceeded() }
    }

    private func budgetExceeded() -> RuleError {
        RuleError(.budget, "step budget of \(maxSteps) exceeded\(inTrigger) (an endless or too large computation)")
    }

    /// Checks the length of a list, tuple or dict about to be built, and charges for it.
    func checkLength(_ n: Int) throws {
        if n > limits.maxCollectionLength {
            throw RuleError(.limit, "collection of \(n) elements exceeds the limit of \(limits.maxCollectionLength)\(inTrigger)")
        }
        try charge(n / 64)
        try account(n.multipliedReportingOverflow(by: MemoryLayout<Value>.stride).partialValue)
    }

    /// Checks the length of a string about to be built, and charges for it.
    func checkString(_ n: Int) throws {
        if n > limits.maxStringLength {
            throw RuleError(.limit, "string of \(n) characters exceeds the limit of \(limits.maxStringLength)\(inTrigger)")
        }
        try charge(n / 1024)
        try account(n)
    }

    /// Counts `bytes` built; throws when the evaluation's memory ceiling is passed.
    @inline(__always)
    func account(_ bytes: Int) throws {
        built &+= max(0, bytes)
        if built > limits.maxBuiltBytes || built < 0 {
            throw RuleError(
                .limit,
                "the evaluation built more than \(limits.maxBuiltBytes >> 20) MiB\(inTrigger) (too large a computation)")
        }
    }

    /// The elements of an iterable: lists, tuples, and dicts (their keys).
    func iterate(_ v: Value) throws -> [Value] {
        switch v {
        case .list(let a), .tuple(let a): return a
        case .dict(let d): return d.keys
        case .string:
            throw RuleError(.type, "'str' object is not iterable (use .elems() or .split())")
        default:
            throw RuleError(.type, "'\(v.typeName)' object is not iterable")
        }
    }

    /// A `str(x)` bounded by the string limit.
    func stringify(_ v: Value, quoted: Bool) throws -> String {
        if !quoted, case .string(let s) = v { return s }
        var w = ReprWriter(limit: limits.maxStringLength)
        do {
            try w.write(v, quoted: quoted)
        } catch var e as RuleError {
            e.message += inTrigger
            throw e
        }
        try charge(w.out.utf8.count / 1024)
        try account(w.out.utf8.count)
        return w.out
    }

    /// Calls any callable value.
    func call(_ f: Value, _ args: [Value], _ kwargs: HostFunction.Keywords) throws -> Value {
        guard case .function(let c) = f else {
            throw RuleError(.type, "'\(f.typeName)' object is not callable")
        }
        return try call(c, args, kwargs)
    }

    /// Calls a callable.
    func call(_ c: Callable, _ args: [Value], _ kwargs: HostFunction.Keywords) throws -> Value {
        try charge()
        switch c.kind {
        case .builtin(let b): return try b.fn(self, args, kwargs)
        case .lambda(let l): return try callLambda(l, args, kwargs)
        case .host(let h): return try callHost(h, args, kwargs)
        case .method(let receiver, let name): return try callMethod(receiver, name, args, kwargs)
        }
    }

    /// Calls a one-argument function (the `key=` of `sorted`, `min`, `max`) without building an argument array.
    func call1(_ f: Value, _ arg: Value) throws -> Value {
        if case .function(let c) = f, case .lambda(let l) = c.kind, l.code.params.count == 1 {
            try charge()
            return try l.code.invoke(l, self) { env in env.locals[l.code.params[0].slot] = arg }
        }
        return try call(f, [arg], [])
    }

    func callHost(_ h: HostFunction, _ args: [Value], _ kwargs: HostFunction.Keywords) throws -> Value {
        do {
            return try h.body(args, kwargs)
        } catch let e as RuleError {
            throw e
        } catch {
            throw RuleError(.host, "\(h.name): \(error)")
        }
    }

    func callMethod(_ receiver: Value, _ name: String, _ args: [Value], _ kwargs: HostFunction.Keywords) throws -> Value {
        switch receiver {
        case .string(let s): return try stringMethod(s, name, args, kwargs)
        case .dict(let d): return try dictMethod(d, name, args, kwargs)
        case .list(let a): return try listMethod(a, name, args, kwargs)
        case .object(let o):
            let attr: Value?
            do { attr = try o.attribute(named: name) } catch let e as RuleError { throw e } catch {
                throw RuleError(.host, "\(o.typeName).\(name): \(error)")
            }
            guard let attr else { throw noAttribute(receiver, name) }
            return try call(attr, args, kwargs)
        default:
            throw noAttribute(receiver, name)
        }
    }

    func callLambda(_ l: LambdaValue, _ args: [Value], _ kwargs: HostFunction.Keywords) throws -> Value {
        let params = l.code.params
        if args.count > params.count {
            throw RuleError(.type, "lambda takes \(params.count) argument\(params.count == 1 ? "" : "s") but \(args.count) were given")
        }
        var bound = [Value?](repeating: nil, count: params.count)
        for (i, a) in args.enumerated() { bound[i] = a }
        for (name, v) in kwargs {
            guard let i = params.firstIndex(where: { $0.name == name }) else {
                throw RuleError(.type, "lambda got an unexpected keyword argument '\(name)'")
            }
            if bound[i] != nil { throw RuleError(.type, "lambda got multiple values for argument '\(name)'") }
            bound[i] = v
        }
        for i in params.indices where bound[i] == nil {
            guard let d = l.defaults[i] else {
                throw RuleError(.type, "lambda missing argument '\(params[i].name)'")
            }
            bound[i] = d
        }
        return try l.code.invoke(l, self) { env in
            for (i, p) in params.enumerated() { env.locals[p.slot] = bound[i] ?? .none }
        }
    }

    /// `'T' object has no attribute 'x'`, with a hint when the name is close to an existing one.
    func noAttribute(_ v: Value, _ name: String) -> RuleError {
        var names: [String] = []
        switch v {
        case .object(let o): names = o.attributeNames
        case .string: names = stringMethodNames
        case .dict: names = dictMethodNames
        case .list: names = listMethodNames
        default: break
        }
        var message = "'\(v.typeName)' object has no attribute '\(name)'"
        if let hint = closestMatch(to: name, in: names) { message += "; did you mean '\(hint)'?" }
        return RuleError(.attribute, message)
    }

    /// `x.name` for any value (host attributes, or bound methods of strings, dicts and lists).
    func attribute(_ v: Value, _ name: String) throws -> Value {
        switch v {
        case .object(let o):
            let attr: Value?
            do { attr = try o.attribute(named: name) } catch let e as RuleError { throw e } catch {
                throw RuleError(.host, "\(o.typeName).\(name): \(error)")
            }
            guard let attr else { throw noAttribute(v, name) }
            return attr
        case .string where stringMethodNames.contains(name),
            .dict where dictMethodNames.contains(name),
            .list where listMethodNames.contains(name):
            return .function(Callable(.method(receiver: v, name: name), name: name))
        default:
            throw noAttribute(v, name)
        }
    }
}

/// Runs `body`, giving any error that has no location yet the location `loc`.
@inline(__always)
func located<T>(_ loc: SourceLocation, _ length: Int, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch var e as RuleError {
        if e.location == nil {
            e.location = loc
            e.length = length
        }
        throw e
    } catch {
        throw RuleError(.host, "\(error)", at: loc, length: length)
    }
}
