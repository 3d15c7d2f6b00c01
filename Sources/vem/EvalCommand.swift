import ArgumentParser
import Foundation
import VEMCore
import VEMRules

/// `vem eval EXPR`: compiles and evaluates a trigger expression, optionally against a snapshot.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trigger expression (or a cmd of several) and print the result.",
        discussion: """
            The expression sees `manager` (clients, hosts, vms, groups from --snapshot, empty lists \
            without one), a recording `sender` and a recording `log(...)`: recorded actions are printed \
            on standard error. The snapshot format is described in docs/SNAPSHOT.md.
            """
    )

    /// The expression's words: `.allUnrecognized` keeps an expression that starts with `-` (`vem eval '-7 // 2'`)
    /// from being read as an unknown option.
    @Argument(
        parsing: .allUnrecognized,
        help: "The expression, e.g. 'len(manager.clients) != 0'. Statements may be separated by ';'.")
    var words: [String] = []

    /// The expression: its words joined by spaces.
    var expression: String { words.joined(separator: " ") }

    @Option(help: "A JSON snapshot of clients, hosts, vms and groups.")
    var snapshot: String?

    @Flag(help: "Print the value as JSON, or {\"error\": \"…\"} on failure.")
    var json = false

    @Option(help: "Step budget of the evaluation (default 100000).")
    var budget: Int?

    func validate() throws {
        if words.isEmpty { throw ValidationError("Missing expected argument '<expression>'") }
        if let budget, budget <= 0 { throw ValidationError("--budget must be positive") }
    }

    func run() throws {
        var limits = Limits()
        if let budget { limits.maxSteps = budget }
        var snap = Snapshot()
        if let path = snapshot {
            do {
                snap = try Snapshot(json: try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                try fail("\(path): \(error)")
            }
        }
        let source = SourceText(standalone: expression)
        let compiled = CompiledProgram.compile(source, kind: .statements, knownGlobals: Snapshot.evalGlobalNames,
                                               limits: limits)
        guard let program = compiled.program else {
            try fail(compiled.diagnostics.filter { $0.severity == .error })
        }
        let recorder = CallRecorder()
        let value: Value
        do {
            value = try program.evaluate(globals: snap.evalGlobals(recorder: recorder), limits: limits)
        } catch {
            try fail([error.diagnostic])
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: value.jsonObject,
                                                  options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for call in recorder.calls { FileHandle.standardError.write(Data("recorded: \(call)\n".utf8)) }
            print(value.repr)
        }
    }

    private func fail(_ diagnostics: [Diagnostic]) throws -> Never {
        if json { try fail(diagnostics.map(\.description).joined(separator: "\n")) }
        var renderer = DiagnosticRenderer()
        renderer.addFile(named: "<expr>", contents: expression)
        FileHandle.standardError.write(Data((renderer.render(diagnostics) + "\n").utf8))
        throw ExitCode(1)
    }

    private func fail(_ message: String) throws -> Never {
        if json {
            let data = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.sortedKeys])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        }
        throw ExitCode(1)
    }
}
