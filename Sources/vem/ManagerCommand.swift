import ArgumentParser
import Foundation
import Logging
import VEMManager
import VEMSite

/// `vem manager -c site.ini`: the Manager — Listener, Sender, TriggerWatch, the embedded hub, the journal and
/// the operator's HTTP endpoint, in one ServiceGroup with graceful shutdown on SIGTERM/SIGINT.
struct ManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager",
        abstract: "Run the Manager: collect properties, evaluate triggers, send commands.",
        discussion: """
            Loads the site's INI files (a broken file is reported as file:line:col and the Manager does not \
            start), takes back its journal (commands without an outcome are resent to Clients that reconnect \
            with the same incarnation, and marked unknown otherwise), listens for Clients on [manager] listen \
            and serves the operator's JSON API on [manager] http_listen (default 127.0.0.1:7401, loopback). \
            SIGHUP (or `vem reload`) reads the files again and swaps in their triggers, groups and policy; a \
            broken configuration is refused with its diagnostics and the running one stays. SIGTERM or SIGINT \
            stop it gracefully.
            """)

    @Option(name: [.customShort("c"), .long], help: "A configuration file (repeat for several).")
    var config: [String] = []
    @Option(help: "The journal file (overrides [manager] journal; default: in memory).") var journal: String?
    @Option(help: "Write {\"hub\": PORT, \"http\": PORT} to this file once both listen (for port 0).")
    var portFile: String?
    @Option(help: "Inbound messages per second each Client connection may send (the hub's token bucket).")
    var inboundRate = 1_000
    @Option(help: "Inbound messages a Client connection may send at once above the rate.") var inboundBurst = 2_000
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: "Log format: text, or json (one JSON object per line; secrets are never logged).")
    var logFormat: LogFormat = .text

    func validate() throws {
        if config.isEmpty { throw ValidationError("name a configuration file with -c") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level \(logLevel)") }
        if inboundRate < 1 || inboundBurst < 1 { throw ValidationError("--inbound-rate and --inbound-burst must be positive") }
    }

    func run() async throws {
        bootstrapLogging(Logger.Level(rawValue: logLevel) ?? .info, format: logFormat)
        var options = ManagerService.Options()
        (options.journalPath, options.inboundRate, options.inboundBurst) = (journal, inboundRate, inboundBurst)
        options.operatorAPI = true
        options.backgroundNiceness = BackgroundPriority.managerDefault
        (options.configPaths, options.reloadOnHangup) = (config, true)
        options.onListening = portFile.map(ManagerService.Options.writingPorts(to:))
        let service: ManagerService
        do {
            service = try await ManagerService.start(site: try loadSite(), options: options)
        } catch let error as ManagerError {
            printError("error: \(error.message)")
            throw ExitCode.failure
        }
        try await service.run(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    private func loadSite() throws -> Site {
        let loaded = SiteFiles.load(config)
        for diagnostic in loaded.diagnostics { printError(diagnostic) }
        guard let site = loaded.site else {
            printError("the manager does not start: \(loaded.errors) error\(loaded.errors == 1 ? "" : "s") in its configuration")
            throw ExitCode.failure
        }
        return site
    }
}
