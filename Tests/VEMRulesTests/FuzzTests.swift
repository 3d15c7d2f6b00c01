import Testing
import VEMCore
@testable import VEMRules

/// SplitMix64: a small seeded generator, so that every run fuzzes the same inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random, mostly well-formed expressions.
struct ExpressionGenerator {
    var rng: SplitMix64

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func atom() -> String {
        pick([
            "0", "1", "-1", "7", "9223372036854775807", "2", "1.5", "-0.0", "1e308", "0.1", "'a'", "''", "'x,y'",
            "\"h\\n\"", "None", "True", "False", "manager", "manager.clients", "sender", "c", "x", "len", "[]", "{}", "()",
            "range(5)", "manager.clients[0]", "'{}'", "lambda c: c",
        ])
    }

    mutating func expr(_ depth: Int) -> String {
        if depth <= 0 || chance(0.25) { return atom() }
        let d = depth - 1
        switch Int.random(in: 0..<16, using: &rng) {
        case 0: return "\(expr(d)) \(pick(["+", "-", "*", "/", "//", "%", "**"])) \(expr(d))"
        case 1: return "\(expr(d)) \(pick(["<", "<=", "==", "!=", ">", ">=", "in", "not in"])) \(expr(d))"
        case 2: return "\(expr(d)) \(pick(["and", "or"])) \(expr(d))"
        case 3: return "\(pick(["not ", "-", "+"]))\(expr(d))"
        case 4: return "(\(expr(d)) if \(expr(d)) else \(expr(d)))"
        case 5: return "[\((0..<Int.random(in: 0..<4, using: &rng)).map { _ in expr(d) }.joined(separator: ", "))]"
        case 6: return "{\(expr(d)): \(expr(d))}"
        case 7: return "[\(expr(d)) for x in \(expr(d))\(chance(0.5) ? " if \(expr(d))" : "")]"
        case 8: return "{x: \(expr(d)) for x in \(expr(d))}"
        case 9:
            let f = pick(["len", "min", "max", "sum", "any", "all", "sorted", "reversed", "abs", "round", "int", "float",
                          "str", "bool", "range", "enumerate", "zip", "dict", "list", "tuple", "type", "repr", "log"])
            let args = (0..<Int.random(in: 0..<3, using: &rng)).map { _ in expr(d) }
            return "\(f)(\(args.joined(separator: ", "))\(chance(0.2) ? ", key=lambda c: \(expr(d))" : ""))"
        case 10: return "\(expr(d)).\(pick(["name", "ram_free", "load", "clients", "upper()", "split(',')", "strip()", "format(1)", "get(1)", "items()", "startswith('a')", "send_get_property()"]))"
        case 11: return "\(expr(d))[\(expr(d))]"
        case 12: return "\(expr(d))[\(chance(0.5) ? expr(d) : ""):\(chance(0.5) ? expr(d) : "")\(chance(0.3) ? ":" + expr(d) : "")]"
        case 13: return "(lambda x, y=1: \(expr(d)))(\(expr(d)))"
        case 14: return "\(pick(["any", "sum", "max", "all"]))(\(expr(d)) for c in \(expr(d)))"
        default: return "(\(expr(d)))"
        }
    }

    /// Deletes, inserts, duplicates or swaps pieces of a text.
    mutating func mutate(_ text: String) -> String {
        var s = Array(text.unicodeScalars)
        let alphabet = Array("()[]{},:.;+-*/%<>=!'\"\\ \n#0123456789eExab_".unicodeScalars)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let i = s.isEmpty ? 0 : Int.random(in: 0..<s.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: if !s.isEmpty { s.remove(at: i) }
            case 1: s.insert(pick(alphabet), at: i)
            case 2: if !s.isEmpty { s[i] = pick(alphabet) }
            case 3:
                let j = min(s.count, i + Int.random(in: 0...8, using: &rng))
                s.insert(contentsOf: s[i..<j], at: j)
            default:
                for kw in [" if ", " for ", " lambda ", " not ", "**", "10**9", "*10**6", "((("] where chance(0.1) {
                    s.insert(contentsOf: kw.unicodeScalars, at: i)
                }
            }
        }
        return String(String.UnicodeScalarView(s))
    }
}

@Suite struct FuzzTests {
    @Test func randomAndMutatedExpressionsNeverCrashOrHang() {
        var gen = ExpressionGenerator(rng: SplitMix64(state: 20_260_315))
        var limits = Limits(maxSteps: 5_000)
        limits.maxStringLength = 100_000
        limits.maxCollectionLength = 100_000
        let globals = testGlobals()
        let known = Set(globals.keys)
        let seeds = table.map(\.0)
        var counts = (total: 0, compiled: 0, evaluated: 0, runtimeErrors: 0)
        for i in 0..<12_000 {
            let text: String
            switch i % 3 {
            case 0: text = gen.expr(4)
            case 1: text = gen.mutate(gen.expr(3))
            default: text = gen.mutate(gen.pick(seeds))
            }
            counts.total += 1
            let result = CompiledProgram.compile(SourceText(standalone: text), kind: i % 2 == 0 ? .expression : .statements,
                                                 knownGlobals: known, limits: limits)
            guard let program = result.program else {
                #expect(result.diagnostics.hasErrors, "\(text)")
                continue
            }
            counts.compiled += 1
            do {
                _ = try program.evaluate(globals: globals, limits: limits)
                counts.evaluated += 1
            } catch {
                counts.runtimeErrors += 1
                #expect(error.location != nil, "\(text): \(error)")
            }
        }
        #expect(counts.total == 12_000)
        #expect(counts.compiled > 3_000)
        #expect(counts.evaluated > 1_000)
    }
}
