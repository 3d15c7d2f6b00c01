import VEMCore

/// A compiled node: evaluates against an ``Env``.
typealias Code = @Sendable (Env) throws -> Value

/// The compiled form of one `lambda` in the source.
final class LambdaCode: Sendable {
    struct Parameter: Sendable {
        var name: String
        var slot: Int
    }

    /// Index into ``Env/active`` (for the recursion check).
    let id: Int
    let params: [Parameter]
    /// For each captured outer local: (outer slot, the lambda's own slot holding the copy).
    let captures: [(outer: Int, inner: Int)]
    let body: Code
    let location: SourceLocation

    init(id: Int, params: [Parameter], captures: [(outer: Int, inner: Int)], body: @escaping Code,
         location: SourceLocation) {
        self.id = id
        self.params = params
        self.captures = captures
        self.body = body
        self.location = location
    }

    /// Binds the captured values and (through `bind`) the arguments, then runs the body.
    @inline(__always)
    func invoke(_ l: LambdaValue, _ env: Env, bind: (Env) -> Void) throws -> Value {
        if env.active[id] {
            throw RuleError(.recursion, "function lambda (defined at \(location)) called recursively")
        }
        if env.callDepth >= env.limits.maxCallDepth {
            throw RuleError(.limit, "call depth exceeds the limit of \(env.limits.maxCallDepth)")
        }
        env.active[id] = true
        env.callDepth += 1
        defer {
            env.active[id] = false
            env.callDepth -= 1
        }
        for (i, c) in captures.enumerated() { env.locals[c.inner] = l.captured[i] }
        bind(env)
        return try body(env)
    }
}

/// A lambda value: its code, the values it captured when created, and its parameter defaults.
final class LambdaValue: Sendable {
    let code: LambdaCode
    let captured: [Value]
    let defaults: [Value?]

    init(code: LambdaCode, captured: [Value], defaults: [Value?]) {
        self.code = code
        self.captured = captured
        self.defaults = defaults
    }
}
