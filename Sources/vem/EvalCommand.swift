import ArgumentParser
import Foundation
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
            """)

    /// The expression's words: `.allUnrecognized` keeps an expression that starts with `-` (`vem eval '-7 // 2'`)
    /// from being read as an unknown option.
    @Argument(
        parsing: .allUnrecognized,
        help: "The expression, e.g. 'len(manager.clients) != 0'. Statements may be separated by ';'.")
    var words: [String] = []

    /// The expression: its words joined by spaces.
    var expression: String { words.joined(separator: " ") }

    @Option(help: "A JSON snapshot of clients, hosts, vms and groups.") var snapshot: String?
    @Flag(help: "Print the value as JSON, or {\"error\": \"…\"} on failure.") var json = false
    @Option(help: "Step budget of the evaluation (default 100000).") var budget: Int?

    func validate() throws {
        if words.isEmpty { throw ValidationError("Missing expected argument '<expression>'") }
        if let budget, budget <= 0 { throw ValidationError("--budget must be positive") }
    }

    func run() throws {
        let evaluation = Evaluation(expression: expression, snapshotPath: snapshot, budget: budget, json: json)
        if let errors = evaluation.errors { FileHandle.standardError.write(Data(errors.utf8)) }
        if let output = evaluation.output { print(output) }
        if !evaluation.succeeded { throw ExitCode(1) }
    }
}
