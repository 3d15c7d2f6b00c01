import ArgumentParser
import Foundation
import Logging
import VEMClient
import VEMClientCore

/// `vem agent -c agent.ini [-c more.ini]`: runs a Client (the paper's Reader and Runner) until SIGTERM/SIGINT.
struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run a Client: collect properties and run the Manager's commands.",
        discussion: """
            Loads the configuration files (the [client] section, properties, [command:…] definitions), \
            connects to the Manager over the configured bus (reconnecting with backoff when it goes away), \
            announces this Client's identity with a fresh incarnation, collects every property each `ticks` \
            seconds, answers get_property, and runs allowlisted commands in order. With `hypervisor = <libvirt URI>` \
            in [client], it also manages that hypervisor's VMs: the vm.create, vm.destroy, vm.migrate and vm.list \
            commands (when allowed), the `hypervisor` property, and vm.lifecycle events to the Manager; each \
            [group:…] whose `template` names a domain XML file defines that group's VMs. With `role = batch` and \
            [group:…] sections (partition, feature), it drives Slurm (SLURM_CONF from the environment): the \
            slurm.demand and slurm.nodes properties and the slurm.register, slurm.drain, slurm.resume, \
            slurm.remove and slurm.down commands (when allowed). A broken file (or \
            template) stops the agent at start with file:line:col diagnostics and exit status 1. SIGTERM or \
            SIGINT: say bye and exit 0.
            """)

    @Option(
        name: [.customShort("c"), .customLong("config")],
        help: "A configuration file (repeat for more; loaded in order).")
    var config: [String] = []
    @Option(
        help: ArgumentHelp("The directory standing for / when reading /proc and /sys (tests).", visibility: .hidden))
    var root: String = "/"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Option(help: "Log format: text, or json (one JSON object per line; secrets are never logged).")
    var logFormat: LogFormat = .text

    func validate() throws {
        if config.isEmpty { throw ValidationError("name a configuration file with -c agent.ini") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown log level '\(logLevel)'") }
    }

    func run() async throws {
        bootstrapLogging(Logger.Level(rawValue: logLevel) ?? .info, format: logFormat)
        do {
            let service = try ClientService.assemble(paths: config, root: root, warn: printError)
            service.stopOnTerminationSignals(warn: printError)
            try await service.run()
        } catch {
            printError(error.message)
            throw ExitCode.failure
        }
    }
}
