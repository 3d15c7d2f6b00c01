import Foundation
import VEMCore

/// What `vem eval` prints: an expression (or statements) compiled and evaluated against a snapshot, with a
/// recording `sender` and `log(...)`. Pure: the caller reads the snapshot and writes the streams.
public struct Evaluation: Sendable {
    /// For standard output (nil: nothing): the value's repr, or its JSON (also `{"error": …}` with `json`).
    public var output: String?
    /// For standard error (nil: nothing): the recorded calls, or the diagnostics with a caret.
    public var errors: String?
    /// False when it did not compile or failed (`vem eval` exits 1).
    public var succeeded: Bool

    /// Compiles and evaluates `expression` against `snapshot`.
    /// - Parameters:
    ///   - expression: The text (statements separated by `;`).
    ///   - snapshot: What `manager` sees.
    ///   - budget: The step budget (nil: ``Limits``' default).
    ///   - json: The value as JSON, and a failure as `{"error": …}` on standard output.
    public init(expression: String, snapshot: Snapshot, budget: Int? = nil, json: Bool) {
        var limits = Limits()
        if let budget { limits.maxSteps = budget }
        let source = SourceText(standalone: expression)
        let compiled = CompiledProgram.compile(
            source, kind: .statements, knownGlobals: Snapshot.evalGlobalNames, limits: limits)
        guard let program = compiled.program else {
            self = .failure(compiled.diagnostics.filter { $0.severity == .error }, expression: expression, json: json)
            return
        }
        let recorder = CallRecorder()
        let value: Value
        do {
            value = try program.evaluate(globals: snapshot.evalGlobals(recorder: recorder), limits: limits)
        } catch {
            self = .failure([error.diagnostic], expression: expression, json: json)
            return
        }
        if json {
            let data = try? JSONSerialization.data(
                withJSONObject: value.jsonObject, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
            (output, errors, succeeded) = (String(decoding: data ?? Data(), as: UTF8.self), nil, true)
        } else {
            let calls = recorder.calls.map { "recorded: \($0)\n" }.joined()
            (output, errors, succeeded) = (value.repr, calls.isEmpty ? nil : calls, true)
        }
    }

    init(output: String?, errors: String?) { (self.output, self.errors, self.succeeded) = (output, errors, false) }

    /// A failure with `message` (a snapshot that cannot be read): `error: message` on standard error, or
    /// `{"error": message}` with `json`.
    public static func failure(_ message: String, json: Bool) -> Evaluation {
        guard json else { return Evaluation(output: nil, errors: "error: \(message)\n") }
        let data = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.sortedKeys])) ?? Data()
        return Evaluation(output: String(decoding: data, as: UTF8.self), errors: nil)
    }

    static func failure(_ diagnostics: [Diagnostic], expression: String, json: Bool) -> Evaluation {
        if json { return failure(diagnostics.map(\.description).joined(separator: "\n"), json: true) }
        var renderer = DiagnosticRenderer()
        renderer.addFile(named: "<expr>", contents: expression)
        return Evaluation(output: nil, errors: renderer.render(diagnostics) + "\n")
    }
}
