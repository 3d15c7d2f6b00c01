import ArgumentParser
import Foundation
import VEMManager

/// A type naming one ``VEMManager/OperatorActionSpec`` (each subcommand is a type of its own).
protocol OperatorAction { static var spec: OperatorActionSpec { get } }

extension OperatorAction {
    /// The subcommand's name and help.
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: spec.name, abstract: spec.abstract, discussion: spec.discussion)
    }
}

/// `vem pause`, `vem resume`, `vem reload`.
struct ActionCommand<Action: OperatorAction>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { Action.configuration }

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws { try await runAction(api, Action.spec.path) }
}

/// `vem host drain HOST`, `vem vm destroy VM`, ….
struct TargetActionCommand<Action: OperatorAction>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { Action.configuration }
    static var target: (key: String, help: String) { Action.spec.target ?? ("", "") }

    @Argument(help: ArgumentHelp(Self.target.help, valueName: Self.target.key)) var target: String
    @OptionGroup var api: ManagerAPIOptions

    func run() async throws { try await runAction(api, Action.spec.path, query: [Self.target.key: target]) }
}

/// Sends one operator action to the Manager and prints what it came to: its message (or the JSON with
/// `--json`); exits 1 when the Manager refused it or named no such action.
func runAction(_ api: ManagerAPIOptions, _ path: String, query: [String: String] = [:]) async throws {
    let (status, data) = try await api.exitOnError { try await $0.post(path, query: query) }
    if api.json {
        print(String(decoding: data, as: UTF8.self))
    } else {
        let (text, isError) = OperatorActionSpec.outcome(status: status, body: data)
        if isError { printError(text) } else { print(text) }
    }
    if status != 200 { throw ExitCode.failure }
}

enum PauseAction: OperatorAction { static let spec = OperatorActionSpec.pause }
enum ResumeAction: OperatorAction { static let spec = OperatorActionSpec.resume }
enum ReloadAction: OperatorAction { static let spec = OperatorActionSpec.reload }

/// `vem host drain|resume HOST`.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host", abstract: "Take a host out of the pool for maintenance, and back.",
        subcommands: [TargetActionCommand<Drain>.self, TargetActionCommand<Resume>.self])

    enum Drain: OperatorAction { static let spec = OperatorActionSpec.hostDrain }
    enum Resume: OperatorAction { static let spec = OperatorActionSpec.hostResume }
}

/// `vem vm drain|destroy|forget VM`.
struct VMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "Act on one VM of the pool.",
        subcommands: [
            TargetActionCommand<Drain>.self, TargetActionCommand<Destroy>.self, TargetActionCommand<Forget>.self,
        ])

    enum Drain: OperatorAction { static let spec = OperatorActionSpec.vmDrain }
    enum Destroy: OperatorAction { static let spec = OperatorActionSpec.vmDestroy }
    enum Forget: OperatorAction { static let spec = OperatorActionSpec.vmForget }
}
