import VEMCore

/// Whether the source is a single `expr` or a `cmd` of several statements.
public enum ProgramKind: Sendable, Hashable {
    /// Exactly one expression (a trigger's `expr`).
    case expression
    /// One or more expressions separated by `;` or new lines, evaluated in order (a trigger's `cmd`).
    case statements
}

/// A program compiled once (at configuration load) and evaluated many times.
///
/// ```swift
/// let program = try CompiledProgram(compiling: text, knownGlobals: ["manager", "sender", "log"])
/// let fired = try program.evaluate(globals: ["manager": .object(m), …], trigger: "client_query").isTruthy
/// ```
public struct CompiledProgram: Sendable {
    /// The source it was compiled from.
    public let source: SourceText
    /// The kind it was compiled as.
    public let kind: ProgramKind
    /// The global names the program refers to (each must be given to ``evaluate(globals:limits:trigger:)``).
    public let referencedGlobals: [String]
    /// Warnings found while compiling (there are no errors, or it would not have compiled).
    public let warnings: [Diagnostic]
    let statements: [Code]
    let globalLocations: [SourceLocation]
    let localCount: Int
    let lambdaCount: Int

    /// Compiles a source text, collecting every problem.
    ///
    /// - Parameters:
    ///   - source: The text (for an INI `expr = { … }`, the text between the braces with its origin).
    ///   - kind: ``ProgramKind/expression`` (exactly one expression) or ``ProgramKind/statements``.
    ///   - knownGlobals: The names the host will provide (`manager`, `sender`, `log`, …). Builtins are always known.
    ///   - limits: Only ``Limits/maxNesting`` and ``Limits/maxSourceLength`` matter here.
    /// - Returns: The program, or nil; and the diagnostics (errors and warnings) mapped into the source's file.
    public static func compile(_ source: SourceText, kind: ProgramKind = .expression, knownGlobals: Set<String>,
                               limits: Limits = Limits()) -> (program: CompiledProgram?, diagnostics: [Diagnostic]) {
        func at(_ line: Int, _ column: Int) -> SourceLocation { source.location(line: line, column: column) }
        if source.text.unicodeScalars.count > limits.maxSourceLength {
            return (nil, [.error(at: at(1, 1), "expression longer than \(limits.maxSourceLength) characters")])
        }
        var lexer = Lexer(source.text, newlinesSeparate: kind == .statements)
        let tokens = lexer.tokenize()
        var diagnostics = lexer.errors.map { Diagnostic.error(at: at($0.line, $0.column), $0.message, length: $0.length) }
        var parser = Parser(tokens: tokens, maxDepth: limits.maxNesting)
        let trees = parser.parseProgram()
        diagnostics += parser.issues.map { .error(at: at($0.pos.line, $0.pos.column), $0.message, length: $0.pos.length) }
        if trees.isEmpty && parser.issues.isEmpty {
            diagnostics.append(.error(at: at(1, 1), "empty expression"))
        }
        if kind == .expression && trees.count > 1 {
            let p = trees[1].start
            diagnostics.append(.error(at: at(p.line, p.column),
                                      "an expression must be a single expression; several are allowed only in a cmd"))
        }
        var compiler = Compiler(source: source, knownGlobals: knownGlobals)
        let codes = trees.map { compiler.compile($0) }
        diagnostics += compiler.diagnostics
        diagnostics = diagnostics.sortedByLocation()
        guard !diagnostics.hasErrors else { return (nil, diagnostics) }
        let program = CompiledProgram(
            source: source, kind: kind, referencedGlobals: compiler.globalNames,
            warnings: diagnostics, statements: codes, globalLocations: compiler.globalLocations,
            localCount: compiler.localCount, lambdaCount: compiler.lambdaCount)
        return (program, diagnostics)
    }

    /// Compiles a source text, throwing all its diagnostics when it has errors.
    /// - Throws: ``CompileError`` with every diagnostic.
    public init(compiling source: SourceText, kind: ProgramKind = .expression, knownGlobals: Set<String>,
                limits: Limits = Limits()) throws(CompileError) {
        let result = Self.compile(source, kind: kind, knownGlobals: knownGlobals, limits: limits)
        guard let program = result.program else { throw CompileError(diagnostics: result.diagnostics) }
        self = program
    }

    private init(source: SourceText, kind: ProgramKind, referencedGlobals: [String], warnings: [Diagnostic],
                 statements: [Code], globalLocations: [SourceLocation], localCount: Int, lambdaCount: Int) {
        self.source = source
        self.kind = kind
        self.referencedGlobals = referencedGlobals
        self.warnings = warnings
        self.statements = statements
        self.globalLocations = globalLocations
        self.localCount = localCount
        self.lambdaCount = lambdaCount
    }

    /// Evaluates the program: each statement in order; the result is the last statement's value.
    ///
    /// - Parameters:
    ///   - globals: Values of the host's globals (name → value); every referenced global must be present.
    ///   - limits: The step budget and size limits for this evaluation.
    ///   - trigger: A name for error messages about limits (`step budget … exceeded in trigger 'x'`).
    /// - Throws: ``RuleError`` located at the failing sub-expression.
    public func evaluate(globals: [String: Value], limits: Limits = Limits(), trigger: String? = nil) throws(RuleError)
        -> Value
    {
        try run(globals: globals, limits: limits, trigger: trigger).value
    }

    /// ``evaluate(globals:limits:trigger:)``, also giving the steps taken, the bytes built and the fast paths taken
    /// (tests compare them between the fast paths and the general code).
    func run(globals: [String: Value], limits: Limits = Limits(), trigger: String? = nil) throws(RuleError)
        -> (value: Value, steps: Int, built: Int, fastPaths: Int)
    {
        var values: [Value] = []
        values.reserveCapacity(referencedGlobals.count)
        for (i, name) in referencedGlobals.enumerated() {
            guard let v = globals[name] else {
                throw RuleError(.undefinedName, "global '\(name)' has no value in this evaluation",
                                at: globalLocations[i], length: name.unicodeScalars.count)
            }
            values.append(v)
        }
        let env = Env(globals: values, localCount: localCount, lambdaCount: lambdaCount, limits: limits,
                      trigger: trigger)
        var result = Value.none
        do {
            for statement in statements { result = try statement(env) }
        } catch let e as RuleError {
            throw e
        } catch {
            throw RuleError(.host, "\(error)")
        }
        return (result, env.steps, env.built, env.fastPaths)
    }
}

/// Compiles and evaluates a standalone expression once (for tests and `vem eval`).
/// - Throws: ``CompileError`` or ``RuleError``.
public func evaluate(_ text: String, kind: ProgramKind = .expression, globals: [String: Value] = [:],
                     limits: Limits = Limits()) throws -> Value {
    let program = try CompiledProgram(compiling: SourceText(standalone: text), kind: kind,
                                      knownGlobals: Set(globals.keys), limits: limits)
    return try program.evaluate(globals: globals, limits: limits)
}
