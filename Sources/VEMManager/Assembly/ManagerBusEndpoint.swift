import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import VEMBus
import VEMConfig
import VEMHub
import VEMNATS
import VEMTrust

/// The Manager's bus as `[manager] bus` names it — the embedded hub or NATS — or one a test gives (the in-memory
/// bus), with what the Manager's assembly needs of any: the engine (journal recovery), a description for
/// `vem status`, start, and a service that stops it.
public struct ManagerBusEndpoint: Sendable {
    /// The bus.
    public let bus: any ManagerBus
    /// Its engine (command streams to restore, acknowledgements).
    public let engine: ManagerEngine
    /// For `vem status` (`hub 127.0.0.1:7400`), read when asked.
    public let description: @Sendable () -> String
    /// Starts the bus; returns the hub's port (0 for the others).
    public let start: @Sendable () async throws(ManagerError) -> Int
    /// Runs while the Manager runs; stops the bus (saying `bye`) on graceful shutdown.
    public let service: any Service
    /// Stops the bus at once (the demo's end).
    public let shutdown: @Sendable () async -> Void

    /// A bus that needs no start and no stop (the in-memory bus of the tests).
    public init(bus: some EngineBackedBus, description: String) {
        self.bus = bus
        engine = bus.engine
        self.description = { description }
        start = { () throws(ManagerError) in 0 }
        service = IdleService()
        shutdown = {}
    }

    init(
        bus: any ManagerBus, engine: ManagerEngine, description: @escaping @Sendable () -> String,
        start: @escaping @Sendable () async throws(ManagerError) -> Int, service: any Service,
        shutdown: @escaping @Sendable () async -> Void
    ) {
        self.bus = bus
        self.engine = engine
        self.description = description
        self.start = start
        self.service = service
        self.shutdown = shutdown
    }

    /// The embedded hub.
    public static func hub(
        _ configuration: HubConfiguration, logger: Logger, eventLoopGroup: (any EventLoopGroup)? = nil
    ) -> ManagerBusEndpoint {
        let hub = HubServer(configuration: configuration, logger: logger, eventLoopGroup: eventLoopGroup)
        let (host, port) = (configuration.host, configuration.port)
        return ManagerBusEndpoint(
            bus: hub, engine: hub.engine, description: { "hub \(host):\(hub.port ?? port)" },
            start: { () throws(ManagerError) in
                do { return try await hub.start() } catch {
                    throw ManagerError(.bus, "the bus does not start: \(error)")
                }
            },
            service: HubService(hub: hub), shutdown: { await hub.shutdown() })
    }

    /// The bus of `settings`: the hub on `listen`, or NATS.
    /// - Parameters:
    ///   - engine: Admission, heartbeats and the journal's result observer.
    ///   - inboundRate: Messages per second each hub connection may send.
    ///   - inboundBurst: Messages a hub connection may send at once above the rate.
    /// - Throws: ``ManagerError`` `.bus` when the NATS settings cannot be used (unreadable password file, no site).
    ///   - trust: The live revocation list (and site CA) the hub's TLS checks against (default: `tls_revoked`'s).
    public static func make(
        _ settings: ManagerSettings, engine: ManagerEngine.Configuration, inboundRate: Int, inboundBurst: Int,
        trust: ManagerTrust? = nil
    ) throws(ManagerError) -> ManagerBusEndpoint {
        switch settings.bus {
        case .hub:
            return hub(
                HubConfiguration(
                    host: settings.listen.host, port: settings.listen.port, engine: engine,
                    inboundMessagesPerSecond: inboundRate, inboundBurst: inboundBurst,
                    maximumConnections: connectionBudget(),
                    maximumConnectionsPerAddress: settings.maxConnectionsPerAddress, tls: try settings.tls.map { tls throws(ManagerError) in try serverTLS(tls, trust: trust) }),
                logger: Logger(label: "vem.hub"))
        case .nats:
            return try nats(settings.nats, tls: settings.tls, engine: engine)
        }
    }

    /// The hub's mutual TLS from `tls_ca`, `tls_certificate`, `tls_key` and `tls_revoked` (or `trust`'s live list).
    /// - Throws: ``ManagerError`` `.bus` when a file cannot be read.
    static func serverTLS(_ tls: TLSSettings, trust: ManagerTrust? = nil) throws(ManagerError) -> HubServerTLS {
        do {
            let context = try TLSContexts.server(TLSFiles(ca: tls.ca, certificate: tls.certificate, key: tls.key))
            let revocations: RevocationList
            if let trust {
                revocations = trust.revocations
            } else if let path = tls.revoked {
                revocations = RevocationList(serials: try ManagerTrust.readRevoked(path))
            } else {
                revocations = RevocationList()
            }
            return HubServerTLS(
                context: context, revocations: revocations, siteCASubject: try TLSContexts.subject(ofPEMFile: tls.ca))
        } catch {
            throw ManagerError(.bus, "TLS: \(error)")
        }
    }

    private static func nats(
        _ nats: NATSSettings, tls: TLSSettings?, engine: ManagerEngine.Configuration
    ) throws(ManagerError) -> ManagerBusEndpoint {
        guard let site = nats.site else { throw ManagerError(.bus, "bus = nats needs 'site' in [manager]") }
        func options(user: String, passwordFile: String?) throws(ManagerError) -> NATSConnectionOptions {
            var password: String?
            if let passwordFile {
                guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                    throw ManagerError(.bus, "cannot read \(passwordFile)")
                }
                password = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            var options = NATSConnectionOptions(servers: nats.servers, user: user, password: password, name: "vem-\(user)")
            options.tls = tls.map { ($0.ca, $0.certificate, $0.key) }
            return options
        }
        let system = try nats.systemPasswordFile.map { file throws(ManagerError) in
            try options(user: NATSAccountsConfig.systemUser, passwordFile: file)
        }
        let connection = try options(user: nats.user ?? NATSAccountsConfig.managerUser, passwordFile: nats.passwordFile)
        let bus: NATSManagerBus
        do {
            bus = try NATSManagerBus(
                configuration: NATSBusConfiguration(
                    connection: connection, site: site, engine: engine, system: system, account: nats.account),
                logger: Logger(label: "vem.bus.nats"))
        } catch {
            throw ManagerError(.bus, error.message)
        }
        let servers = nats.servers.joined(separator: ",")
        return ManagerBusEndpoint(
            bus: bus, engine: bus.engine, description: { "nats \(servers) site \(site)" },
            start: { () throws(ManagerError) in
                do { try await bus.start() } catch let error as NATSError {
                    throw ManagerError(.bus, "the bus does not start: \(error.message)")
                } catch {
                    throw ManagerError(.bus, "the bus does not start: \(error)")
                }
                return 0
            },
            service: NATSBusService(bus: bus), shutdown: { await bus.shutdown() })
    }
}

/// The hub as a service: it stops (saying `bye` to every Client) on graceful shutdown.
struct HubService: Service {
    let hub: HubServer

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await hub.run() }
    }
}

/// The NATS bus as a service: started before; on graceful shutdown it says `bye` and closes its connections.
struct NATSBusService: Service {
    let bus: NATSManagerBus

    func run() async throws {
        await withGracefulShutdownHandler {
            // Parked until shutdown: the bus runs on libnats's threads.
            let (stream, _) = AsyncStream.makeStream(of: Void.self)
            for await _ in stream.cancelOnGracefulShutdown() {}
        } onGracefulShutdown: {}
        await bus.shutdown()
    }
}

/// A service with nothing to do: parked until graceful shutdown (a bus that needs no stopping).
struct IdleService: Service {
    func run() async throws {
        let (stream, _) = AsyncStream.makeStream(of: Void.self)
        for await _ in stream.cancelOnGracefulShutdown() {}
    }
}

/// Connections the hub may hold: 16,384, or fewer so that 64 descriptors of the process's limit stay free for the
/// journal, the operator API and the Manager's own files (a flood of connections must not starve them).
func connectionBudget() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return 16_384 }
    return max(1, min(16_384, Int(clamping: limit.rlim_cur) - 64))
}
