import Testing
import VEMCore
@testable import VEMRules

@Suite struct LimitsTests {
    /// Runs `text`, expecting an error whose message contains `fragment` and whose code is `code`.
    func expectLimit(_ text: String, _ code: RuleError.Code, _ fragment: String, limits: Limits = Limits(),
                     sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let globals = testGlobals()
        let compiled = CompiledProgram.compile(SourceText(standalone: text), knownGlobals: Set(globals.keys),
                                               limits: limits)
        guard let program = compiled.program else {
            #expect(compiled.diagnostics.contains { $0.message.contains(fragment) }, "\(compiled.diagnostics)",
                    sourceLocation: sourceLocation)
            return
        }
        do {
            let v = try program.evaluate(globals: globals, limits: limits, trigger: "runaway")
            Issue.record("\(text) gave \(v.repr)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
            #expect(error.location != nil, sourceLocation: sourceLocation)
        }
    }

    @Test func hugeRange() { expectLimit("[x for x in range(10**9)]", .limit, "exceeds the limit of 1000000") }
    @Test func budgetNamesTheTrigger() {
        expectLimit("[x for x in range(500000)]", .budget, "step budget of 100000 exceeded in trigger 'runaway'")
    }
    @Test func nestedLoops() { expectLimit("[1 for x in range(1000) for y in range(1000)]", .budget, "step budget") }
    @Test func hugeString() { expectLimit("'a' * 10**9", .limit, "string of 1000000000 characters exceeds") }
    @Test func hugePower() { expectLimit("10**10**10", .overflow, "integer overflow") }
    @Test func hugeList() { expectLimit("[0] * 10**7", .limit, "collection of 10000000 elements") }
    @Test func hugeRepr() { expectLimit("str([[0] * 100000] * 100000)", .limit, "would exceed the size limit") }
    @Test func doublingString() {
        expectLimit("('a' * 6000000) * 2", .limit, "string of 12000000 characters exceeds")
    }
    @Test func configurableBudget() {
        expectLimit("sum(range(1000))", .budget, "step budget of 10", limits: Limits(maxSteps: 10))
        #expect(outcome("sum([x for x in range(1000)])", limits: Limits(maxSteps: 2000)) == "499500")
    }
    @Test func oneEvaluationsMemoryIsCapped() {
        // The review's probe: a budget of 10^7 steps (the highest a site may set) buys gigabytes of lists; the
        // memory ceiling stops the evaluation first.
        expectLimit(
            "[[0] * 1000000 for x in range(1000)]", .limit, "built more than 256 MiB",
            limits: Limits(maxSteps: 10_000_000))
        expectLimit("[str(x) * 100000 for x in range(10000)]", .limit, "built more than", limits: Limits(maxSteps: 10_000_000))
        var small = Limits()
        small.maxBuiltBytes = 1 << 20
        expectLimit("[x for x in range(90000)]", .limit, "built more than 1 MiB", limits: small)
    }
    @Test func lambdaRecursionStops() {
        expectLimit("(lambda f: f(f))(lambda f: f(f))", .recursion, "called recursively")
    }

    @Test func deepNestingIsASyntaxError() {
        for text in [String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000),
                     String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000),
                     String(repeating: "-", count: 50_000) + "1", String(repeating: "not ", count: 5000) + "1",
                     Array(repeating: "1", count: 50_000).joined(separator: "+"),
                     "x" + String(repeating: ".a", count: 10_000), "f" + String(repeating: "()", count: 10_000),
                     String(repeating: "lambda: ", count: 5000) + "1", String(repeating: "1 if 1 else ", count: 5000) + "1",
                     Array(repeating: "1", count: 50_000).joined(separator: " < ")]
        {
            let r = CompiledProgram.compile(SourceText(standalone: text), knownGlobals: ["x", "f"])
            #expect(r.program == nil)
            #expect(r.diagnostics.contains { $0.message == "expression nested too deeply (limit 200)" })
        }
        #expect(outcome(String(repeating: "(", count: 199) + "1" + String(repeating: ")", count: 199)) == "1")
        #expect(outcome(String(repeating: "[", count: 199) + String(repeating: "]", count: 199)).hasPrefix("[[[["))
        #expect(outcome(String(repeating: "-", count: 190) + "1") == "1")
        #expect(outcome(Array(repeating: "1", count: 190).joined(separator: "+")) == "190")
    }

    @Test func noIOInTheUniverse() {
        for name in ["open", "print", "time", "random", "exec", "eval", "getenv", "load"] {
            #expect(outcome("\(name)()").hasPrefix("!1:1: undefined name '\(name)'"))
        }
    }

    @Test func limitsDoNotLeakBetweenEvaluations() throws {
        let program = try CompiledProgram(compiling: SourceText(standalone: "len([x for x in range(60000)])"),
                                          knownGlobals: [])
        for _ in 0..<3 { #expect(try program.evaluate(globals: [:]) == .int(60000)) }
    }
}
