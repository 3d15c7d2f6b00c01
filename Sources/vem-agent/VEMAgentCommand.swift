import ArgumentParser
import Logging
import VEMClientCore

#if canImport(Glibc)
    import Glibc
#endif

/// `vem-agent -c agent.ini [-c more.ini]`: a guest's Client, `vem agent` without what a guest does not use (the
/// hypervisor, NATS, the Manager's libraries), so that it links and maps far less (issue 21).
@main
struct VEMAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vem-agent",
        abstract: "Run a guest's Client: collect properties and run the Manager's commands, over the hub.",
        discussion: """
            `vem agent` for a guest: it loads the configuration files, connects to the Manager's hub \
            (reconnecting with backoff), announces this Client with a fresh incarnation, collects every property \
            each `ticks` seconds, answers get_property and runs allowlisted commands in order; `credentials = \
            smbios` takes the guest's certificate from the VM. A configuration with `hypervisor = …` or \
            `bus = nats` is refused at start: those need `vem agent`, which links libvirt and libnats. Logs are \
            text lines on standard error. A broken file stops it at start with file:line:col diagnostics and exit \
            status 1. SIGTERM or SIGINT: say bye and exit 0.
            """)

    @Option(
        name: [.customShort("c"), .customLong("config")],
        help: "A configuration file (repeat for more; loaded in order).")
    var config: [String] = []
    @Option(
        help: ArgumentHelp("The directory standing for / when reading /proc and /sys (tests).", visibility: .hidden))
    var root: String = "/"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func validate() throws {
        if config.isEmpty { throw ValidationError("name a configuration file with -c agent.ini") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown log level '\(logLevel)'") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        do {
            let service = try ClientService.assemble(paths: config, root: root, warn: printError, hosting: .hubOnly)
            service.stopOnTerminationSignals(warn: printError)
            try await service.run()
        } catch {
            printError(error.message)
            throw ExitCode.failure
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    line.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
}
