import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import VEMBus
import VEMConfig
import VEMTrust
import VEMHub
import VEMSite

/// The Manager put together once, from its site: the bus `[manager] bus` names (or one a test gives), the journal
/// (`--journal`, else `[manager] journal`, else in memory), the Manager with its journal recovered, the bus
/// started, and the operator's HTTP API on `[manager] http_listen`. `vem manager`, the demo and the Manager's
/// tests all start it here.
///
/// ```swift
/// let service = try await ManagerService.start(site: site, options: .init())
/// try await service.run(gracefulShutdownSignals: [.sigterm, .sigint])
/// ```
public struct ManagerService: Sendable {
    /// What the site's configuration does not say.
    public struct Options: Sendable {
        /// The journal: an open one (tests reopen theirs), else the file at `journalPath`, else
        /// `[manager] journal`, else in memory.
        public var journal: Journal?
        /// Overrides `[manager] journal`.
        public var journalPath: String?
        /// The shared token Clients present; overrides `[manager] token_file`.
        public var token: String?
        /// Inbound messages per second each hub connection may send (the hub's token bucket).
        public var inboundRate = 1_000
        /// Inbound messages a hub connection may send at once above the rate.
        public var inboundBurst = 2_000
        /// The bus, when not the one the settings name (the in-memory bus of the tests).
        public var transport: (@Sendable (ManagerEngine.Configuration) throws(ManagerError) -> ManagerBusEndpoint)?
        /// The Manager's clock (the demo's trace time, a ``ManualClock`` in tests).
        public var clock: any ManagerClock = SystemClock()
        /// Time-outs, retries and how often hosts are listed (nil: the site's `[manager]` settings).
        public var healing: Manager.Healing?
        /// The Manager's logger.
        public var logger = Logger(label: "vem.manager")
        /// Whether to serve the operator's HTTP API (`vem manager` does; the demo and tests do not).
        public var operatorAPI = false
        /// The files the site was read from: `vem reload` and SIGHUP read them again (empty: no reload).
        public var configPaths: [String] = []
        /// Live migration URIs given by the program (tests' daemons on unix sockets); none by default.
        public var routes = MigrationRoutes()
        /// Whether SIGHUP reloads the configuration from ``configPaths`` (`vem manager` does).
        public var reloadOnHangup = false
        /// The nice steps below the event loops the journal's writes run at (``BackgroundPriority``; 0 brings them
        /// down to the loops' level from GRDB's queue, which libdispatch runs at nice -2). nil (the default, tests
        /// and the demo) leaves their threads as they are; `vem manager` and `vem bench manager` give
        /// ``BackgroundPriority/managerDefault``.
        public var backgroundNiceness: Int?
        /// Called once the hub and the HTTP API listen, with their ports (for port 0).
        public var onListening: (@Sendable (_ hub: Int, _ http: Int) -> Void)?

        /// An ``onListening`` that writes `{"hub": H, "http": P}` to `path` atomically (`vem manager
        /// --port-file`, for a Manager started on port 0).
        public static func writingPorts(to path: String) -> @Sendable (_ hub: Int, _ http: Int) -> Void {
            { hub, http in
                let text = "{\"hub\": \(hub), \"http\": \(http)}\n"
                try? Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            }
        }

        /// The defaults.
        public init() {}
    }

    /// The Manager.
    public let manager: Manager
    /// Its bus.
    public let endpoint: ManagerBusEndpoint
    /// What recovery took back from the journal.
    public let recovery: Manager.RecoverySummary
    /// The hub's port (0 for the other buses).
    public let hubPort: Int
    /// Everything that runs: the bus, the Manager's services and (when asked) the operator's HTTP API.
    public let services: [any Service]
    /// The journal's exclusive lock, held as long as this service exists (none for an in-memory journal or one
    /// a test opened itself).
    public let journalLock: JournalLock?

    /// Opens the journal, makes the bus, recovers the journal, starts the bus and prepares the HTTP API.
    /// - Throws: ``ManagerError`` `.configuration` (unreadable token file), `.journal`, `.bus`.
    public static func start(site: Site, options: Options) async throws(ManagerError) -> ManagerService {
        let settings = site.configuration.manager ?? ManagerSettings()
        let logger = options.logger
        var admission = Admission()
        if let token = options.token {
            admission.sharedToken = token
        } else {
            do { admission = try ManagerCredentials.admission(settings) } catch {
                throw ManagerError(.configuration, "\(error)")
            }
        }
        // What listening as configured exposes: a Manager reachable off loopback without authentication refuses
        // to start unless the site says `insecure = yes`.
        let http = settings.httpListen ?? HostPort(host: OperatorHTTP.defaultHost, port: OperatorHTTP.defaultPort)
        let exposure = ManagerCredentials.exposure(settings, admission: admission, http: options.operatorAPI ? http : nil)
        for warning in exposure.warnings + ManagerCredentials.looseTokenFiles(settings) { logger.warning("\(warning)") }
        if !exposure.errors.isEmpty {
            throw ManagerError(
                .configuration, exposure.errors.joined(separator: "\nerror: ") + "\nthe manager does not start")
        }
        if !admission.authenticates { logger.warning("no token_file: any Client may join (loopback only)") }
        let journal: Journal
        var lock: JournalLock?
        if let open = options.journal {
            journal = open
        } else {
            let path = options.journalPath ?? settings.journal
            if path == nil { logger.warning("no journal file: commands are kept in memory only") }
            // Before the journal is opened and recovered: a second Manager on it refuses to start.
            lock = try path.map { path throws(ManagerError) in try JournalLock.acquire(journal: path) }
            // The journal's writes at or below the loops' level (not above them: GRDB's queue runs at nice -2).
            journal = try Journal(path: path, backgroundNiceness: options.backgroundNiceness)
        }
        // The VM credentials issued and revoked are kept beside the journal file (none for a journal in memory).
        let trust = try ManagerTrust.load(
            settings, store: (options.journalPath ?? settings.journal).map { $0 + ".credentials" }, logger: logger)
        var engine = ManagerEngine.Configuration(admission: admission, heartbeatInterval: settings.heartbeatInterval)
        engine.resultObserver = journal.resultObserver(clock: options.clock)
        let endpoint: ManagerBusEndpoint
        if let transport = options.transport {
            endpoint = try transport(engine)
        } else {
            endpoint = try ManagerBusEndpoint.make(
                settings, engine: engine, inboundRate: options.inboundRate, inboundBurst: options.inboundBurst,
                trust: trust)
        }
        let busEngine = endpoint.engine
        let manager = Manager(
            site: site, bus: endpoint.bus, journal: journal, clock: options.clock, busDescription: endpoint.description,
            restore: { stream throws(BusError) in try busEngine.restore(stream) },
            acknowledgements: { busEngine.acknowledgedThrough($0) }, healing: options.healing,
            configPaths: options.configPaths, routes: options.routes, trust: trust, logger: logger)
        // Property replies go into the state on the bus's threads, the rest through the Listener's stream.
        manager.listener.takeMessages(from: busEngine)
        let recovery = try await manager.recover()
        logger.info(
            "journal recovered",
            metadata: [
                "journal": "\(journal.path)", "clients": "\(recovery.clients)", "resumed": "\(recovery.resumed)",
                "unknown": "\(recovery.markedUnknown)",
            ])
        let hubPort = try await endpoint.start()
        var services = [endpoint.service] + manager.services
        if options.reloadOnHangup && !options.configPaths.isEmpty { services.append(ReloadOnHangup(manager: manager)) }
        if options.operatorAPI {
            let onListening = options.onListening
            // Off loopback, the API is served over TLS to operators' certificates (on loopback: plain HTTP).
            let operatorTLS = ManagerCredentials.isLoopback(http.host)
                ? nil : settings.tls.map { TLSFiles(ca: $0.ca, certificate: $0.certificate, key: $0.key) }
            let operatorService: any Service
            do {
                operatorService = try OperatorHTTP.service(
                    api: OperatorAPI(manager: manager, recovery: recovery), host: http.host, port: http.port,
                    logger: Logger(label: "vem.http"), tls: operatorTLS,
                    onBound: { port in
                        logger.info(
                            "operator API listening",
                            metadata: ["address": "\(http.host):\(port)", "hub_port": "\(hubPort)"])
                        onListening?(hubPort, port)
                    })
            } catch {
                await endpoint.shutdown()
                throw ManagerError(.configuration, "operator API: \(error)")
            }
            services.append(operatorService)
        }
        return ManagerService(
            manager: manager, endpoint: endpoint, recovery: recovery, hubPort: hubPort, services: services,
            journalLock: lock)
    }

    /// Runs every service in one `ServiceGroup` until the signals (or cancellation) stop it gracefully.
    public func run(gracefulShutdownSignals: [UnixSignal] = []) async throws {
        defer { withExtendedLifetime(journalLock) {} }  // held until the Manager stops
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: gracefulShutdownSignals,
                logger: manager.logger))
        try await group.run()
    }
}
