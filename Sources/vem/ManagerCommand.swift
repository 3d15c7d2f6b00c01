import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import VEMBus
import VEMConfig
import VEMCore
import VEMHub
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
            and serves the operator's JSON API on [manager] http_listen (default 127.0.0.1:7480, loopback). \
            SIGTERM or SIGINT stop it gracefully.
            """
    )

    @Option(name: [.customShort("c"), .long], help: "A configuration file (repeat for several).")
    var config: [String] = []

    @Option(help: "The journal file (overrides [manager] journal; default: in memory).")
    var journal: String?

    @Option(help: "Write {\"hub\": PORT, \"http\": PORT} to this file once both listen (for port 0).")
    var portFile: String?

    @Option(help: "Inbound messages per second each Client connection may send (the hub's token bucket).")
    var inboundRate = 1_000

    @Option(help: "Inbound messages a Client connection may send at once above the rate.")
    var inboundBurst = 2_000

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        if config.isEmpty { throw ValidationError("name a configuration file with -c") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level \(logLevel)") }
        if inboundRate < 1 || inboundBurst < 1 { throw ValidationError("--inbound-rate and --inbound-burst must be positive") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vem.manager")
        let site = try loadSite()
        let settings = site.configuration.manager ?? ManagerSettings()
        let admission: Admission
        do {
            admission = try ManagerCredentials.admission(settings)
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        let http = settings.httpListen ?? HostPort(host: OperatorHTTP.defaultHost, port: OperatorHTTP.defaultPort)
        let exposure = ManagerCredentials.exposure(settings, admission: admission, http: http)
        for warning in exposure.warnings + ManagerCredentials.looseTokenFiles(settings) { logger.warning("\(warning)") }
        if !exposure.errors.isEmpty {
            for error in exposure.errors { printError("error: \(error)") }
            printError("the manager does not start")
            throw ExitCode.failure
        }
        if !admission.authenticates { logger.warning("no token_file: any Client may join (loopback only)") }
        let journalPath = journal ?? settings.journal
        if journalPath == nil { logger.warning("no journal file: commands are kept in memory only") }
        let journal: Journal
        do {
            journal = try Journal(path: journalPath)
        } catch {
            printError("error: \(error.message)")
            throw ExitCode.failure
        }
        var engineConfiguration = ManagerEngine.Configuration(
            admission: admission, heartbeatInterval: settings.heartbeatInterval)
        engineConfiguration.resultObserver = journal.resultObserver(clock: SystemClock())
        let bus: ManagerBusEndpoint
        do {
            bus = try ManagerBusEndpoint.make(
                settings, engine: engineConfiguration, inboundRate: inboundRate, inboundBurst: inboundBurst)
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        let engine = bus.engine
        let manager = Manager(
            site: site, bus: bus.bus, journal: journal, busDescription: bus.description,
            restore: { stream throws(BusError) in try engine.restore(stream) },
            acknowledgements: { engine.acknowledgedThrough($0) }, logger: logger)
        let recovery = try await manager.recover()
        logger.info(
            "journal recovered",
            metadata: [
                "journal": "\(journal.path)", "clients": "\(recovery.clients)", "resumed": "\(recovery.resumed)",
                "unknown": "\(recovery.markedUnknown)",
            ])
        let hubPort: Int
        do {
            hubPort = try await bus.start()
        } catch {
            printError("error: the bus does not start: \(error)")
            throw ExitCode.failure
        }
        let portFile = portFile
        let httpService = OperatorHTTP.service(
            api: OperatorAPI(manager: manager, recovery: recovery), host: http.host, port: http.port,
            logger: Logger(label: "vem.http"),
            onBound: { port in
                logger.info("operator API listening", metadata: ["address": "\(http.host):\(port)", "hub_port": "\(hubPort)"])
                if let portFile { writePortFile(portFile, hub: hubPort, http: port) }
            })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: bus.service)] + manager.services.map { .init(service: $0) }
                    + [.init(service: httpService)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    private func loadSite() throws -> Site {
        var sources: [ConfigSource] = []
        for path in config {
            guard let data = FileManager.default.contents(atPath: path) else {
                printError("\(path): error: cannot read file")
                throw ExitCode.failure
            }
            sources.append(ConfigSource(name: path, bytes: [UInt8](data)))
        }
        let result = Site.load(sources)
        var renderer = DiagnosticRenderer()
        renderer.addConfigSources(sources)
        for diagnostic in result.diagnostics { printError(renderer.render(diagnostic)) }
        guard let site = result.site else {
            let errors = result.diagnostics.filter { $0.severity == .error }.count
            printError("the manager does not start: \(errors) error\(errors == 1 ? "" : "s") in its configuration")
            throw ExitCode.failure
        }
        return site
    }
}

/// Writes `{"hub": H, "http": P}` atomically.
func writePortFile(_ path: String, hub: Int, http: Int) {
    let text = "{\"hub\": \(hub), \"http\": \(http)}\n"
    try? Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
}
