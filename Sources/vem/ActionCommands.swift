import ArgumentParser
import Foundation
import VEMManager

/// An operator action: its subcommand's name and help, and what it acts on (nil: the whole pool). It POSTs
/// `/v1/NAME` (`/v1/pause`), or `/v1/TARGETs/NAME?TARGET=…` (`/v1/hosts/drain?host=h1`).
struct ActionSpec: Sendable {
    let target: (key: String, help: String)?
    let configuration: CommandConfiguration

    static let host = (key: "host", help: "The Dom0 Client's name.")
    static let vm = (key: "vm", help: "The VM's name (vem vms).")

    var path: String {
        "/v1/" + (target.map { "\($0.key)s/" } ?? "") + (configuration.commandName ?? "")
    }
}

/// A type naming one ``ActionSpec`` (each subcommand is a type of its own).
protocol OperatorAction { static var spec: ActionSpec { get } }

/// `vem pause`, `vem resume`, `vem reload`.
struct ActionCommand<Action: OperatorAction>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { Action.spec.configuration }

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws { try await runAction(api, Action.spec.path) }
}

/// `vem host drain HOST`, `vem vm destroy VM`, ….
struct TargetActionCommand<Action: OperatorAction>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { Action.spec.configuration }
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
    } else if let report = try? JSONDecoder().decode(Manager.ActionReport.self, from: data) {
        let line = report.accepted ? report.message : "error: \(report.action): \(report.message)"
        if report.accepted { print(line) } else { printError(line) }
    } else {
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        printError("error: the Manager answered \(status): \(object?["error"] as? String ?? String(decoding: data, as: UTF8.self))")
    }
    if status != 200 { throw ExitCode.failure }
}

enum PauseAction: OperatorAction { static let spec = ActionSpec.pause }
enum ResumeAction: OperatorAction { static let spec = ActionSpec.resume }
enum ReloadAction: OperatorAction { static let spec = ActionSpec.reload }

/// `vem host drain|resume HOST`.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host", abstract: "Take a host out of the pool for maintenance, and back.",
        subcommands: [TargetActionCommand<Drain>.self, TargetActionCommand<Resume>.self])

    enum Drain: OperatorAction { static let spec = ActionSpec.hostDrain }
    enum Resume: OperatorAction { static let spec = ActionSpec.hostResume }
}

/// `vem vm drain|destroy|forget VM`.
struct VMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "Act on one VM of the pool.",
        subcommands: [
            TargetActionCommand<Drain>.self, TargetActionCommand<Destroy>.self, TargetActionCommand<Forget>.self,
        ])

    enum Drain: OperatorAction { static let spec = ActionSpec.vmDrain }
    enum Destroy: OperatorAction { static let spec = ActionSpec.vmDestroy }
    enum Forget: OperatorAction { static let spec = ActionSpec.vmForget }
}

/// The actions, with their help.
extension ActionSpec {
    init(_ target: (key: String, help: String)?, _ name: String, abstract: String, discussion: String = "") {
        let configuration = CommandConfiguration(commandName: name, abstract: abstract, discussion: discussion)
        self.init(target: target, configuration: configuration)
    }

    static let pause = ActionSpec(
        nil, "pause", abstract: "Pause the planner: policy.rebalance() decides nothing until `vem resume`.",
        discussion: """
            Property collection, triggers, the pool's time-outs and retries and operations already under way go \
            on; operator actions (vem vm …) still work. Journaled as a decision with the operator's name.
            """)
    static let resume = ActionSpec(nil, "resume", abstract: "Let the planner decide again after `vem pause`.")
    static let reload = ActionSpec(
        nil, "reload", abstract: "Make the Manager read its configuration files again (as SIGHUP does).",
        discussion: """
            The new triggers, groups, demand properties and planner settings are swapped in at once; a \
            configuration with errors is refused with its file:line:col diagnostics (exit 1) and the running one \
            stays. The bus, listen addresses, journal, credentials and time-outs are read at start only.
            """)
    static let hostDrain = ActionSpec(
        host, "drain", abstract: "The host takes no new VMs and its VMs move off.",
        discussion: """
            With live migration on ([manager] migration, the default), each VM on the host is live-migrated to \
            a host with room (two at a time); otherwise, or when no host has room, it is drained (no new jobs) \
            and destroyed once idle, and the planner creates its group's VMs elsewhere. The host takes no new \
            VM until `vem host resume HOST`. `vem vms --json` shows where each VM is.
            """)
    static let hostResume = ActionSpec(host, "resume", abstract: "The host takes new VMs again.")
    static let vmDrain = ActionSpec(vm, "drain", abstract: "Its node takes no new jobs; the VM is destroyed once idle.")
    static let vmDestroy = ActionSpec(
        vm, "destroy",
        abstract: "Its node leaves the batch system and the VM is destroyed now (a busy VM's jobs are lost).")
    static let vmForget = ActionSpec(
        vm, "forget", abstract: "Stop tracking the VM without sending any command.",
        discussion: """
            For a VM whose host is gone for good: its domain and batch node are left as they are. A host \
            that still lists the domain (vm.list) has it adopted again.
            """)
}
