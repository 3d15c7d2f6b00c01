import ArgumentParser
import Foundation
import VEMManager

/// Sends one operator action to the Manager and prints what it came to: its message (or the JSON with
/// `--json`); exits 1 when the Manager refused it or named no such action.
func runAction(_ api: ManagerAPIOptions, _ path: String, query: [String: String] = [:]) async throws {
    let (status, data) = try await api.post(path, query: query)
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

/// `vem pause`: the planner stops deciding.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause the planner: policy.rebalance() decides nothing until `vem resume`.",
        discussion: """
            Property collection, triggers, the pool's time-outs and retries and operations already under way go \
            on; operator actions (vem vm …) still work. Journaled as a decision with the operator's name.
            """)

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws { try await runAction(api, "/v1/pause") }
}

/// `vem resume`: the planner decides again.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Let the planner decide again after `vem pause`.")

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws { try await runAction(api, "/v1/resume") }
}

/// `vem host drain|resume HOST`.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host", abstract: "Take a host out of the pool for maintenance, and back.",
        subcommands: [Drain.self, Resume.self])

    /// `vem host drain HOST`.
    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The host takes no new VMs and its VMs move off.",
            discussion: """
                With live migration on ([manager] migration, the default), each VM on the host is live-migrated to \
                a host with room (two at a time); otherwise, or when no host has room, it is drained (no new jobs) \
                and destroyed once idle, and the planner creates its group's VMs elsewhere. The host takes no new \
                VM until `vem host resume HOST`. `vem vms --json` shows where each VM is.
                """)

        @Argument(help: "The Dom0 Client's name.")
        var host: String

        @OptionGroup var api: ManagerAPIOptions

        func run() async throws { try await runAction(api, "/v1/hosts/drain", query: ["host": host]) }
    }

    /// `vem host resume HOST`.
    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The host takes new VMs again.")

        @Argument(help: "The Dom0 Client's name.")
        var host: String

        @OptionGroup var api: ManagerAPIOptions

        func run() async throws { try await runAction(api, "/v1/hosts/resume", query: ["host": host]) }
    }
}

/// `vem vm drain|destroy|forget VM`.
struct VMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "Act on one VM of the pool.", subcommands: [Drain.self, Destroy.self, Forget.self])

    /// `vem vm drain VM`.
    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Its node takes no new jobs; the VM is destroyed once idle.")

        @Argument(help: "The VM's name (vem vms).")
        var vm: String

        @OptionGroup var api: ManagerAPIOptions

        func run() async throws { try await runAction(api, "/v1/vms/drain", query: ["vm": vm]) }
    }

    /// `vem vm destroy VM`.
    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Its node leaves the batch system and the VM is destroyed now (a busy VM's jobs are lost).")

        @Argument(help: "The VM's name (vem vms).")
        var vm: String

        @OptionGroup var api: ManagerAPIOptions

        func run() async throws { try await runAction(api, "/v1/vms/destroy", query: ["vm": vm]) }
    }

    /// `vem vm forget VM`.
    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop tracking the VM without sending any command.",
            discussion: """
                For a VM whose host is gone for good: its domain and batch node are left as they are. A host \
                that still lists the domain (vm.list) has it adopted again.
                """)

        @Argument(help: "The VM's name (vem vms).")
        var vm: String

        @OptionGroup var api: ManagerAPIOptions

        func run() async throws { try await runAction(api, "/v1/vms/forget", query: ["vm": vm]) }
    }
}

/// `vem reload`: the Manager reads its configuration files again.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the Manager read its configuration files again (as SIGHUP does).",
        discussion: """
            The new triggers, groups, demand properties and planner settings are swapped in at once; a \
            configuration with errors is refused with its file:line:col diagnostics (exit 1) and the running one \
            stays. The bus, listen addresses, journal, credentials and time-outs are read at start only.
            """)

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws { try await runAction(api, "/v1/reload") }
}
