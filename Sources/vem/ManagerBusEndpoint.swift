import Foundation
import Logging
import ServiceLifecycle
import VEMBus
import VEMConfig
import VEMHub
import VEMNATS

/// The Manager's bus as `[manager] bus` names it — the embedded hub or NATS — with what `vem manager` needs of
/// either: the engine (journal recovery), a description for `vem status`, start, and a service that stops it.
struct ManagerBusEndpoint {
    let bus: any ManagerBus
    let engine: ManagerEngine
    let description: @Sendable () -> String
    /// Starts the bus; returns the hub's port (0 for NATS).
    let start: @Sendable () async throws -> Int
    let service: any Service

    /// The bus of `settings`.
    /// - Throws: a readable error when the NATS settings cannot be used (unreadable password file, bad site).
    static func make(
        _ settings: ManagerSettings, engine: ManagerEngine.Configuration, inboundRate: Int, inboundBurst: Int
    ) throws -> ManagerBusEndpoint {
        switch settings.bus {
        case .hub:
            let hub = HubServer(
                configuration: HubConfiguration(
                    host: settings.listen.host, port: settings.listen.port, engine: engine,
                    inboundMessagesPerSecond: inboundRate, inboundBurst: inboundBurst,
                    maximumConnections: connectionBudget()),
                logger: Logger(label: "vem.hub"))
            let listen = settings.listen
            return ManagerBusEndpoint(
                bus: hub, engine: hub.engine, description: { "hub \(listen.host):\(hub.port ?? listen.port)" },
                start: { try await hub.start() }, service: HubService(hub: hub))
        case .nats:
            let nats = settings.nats
            guard let site = nats.site else { throw EndpointError("bus = nats needs 'site' in [manager]") }
            func options(user: String, passwordFile: String?) throws -> NATSConnectionOptions {
                var password: String?
                if let passwordFile {
                    guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                        throw EndpointError("cannot read \(passwordFile)")
                    }
                    password = text.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                return NATSConnectionOptions(
                    servers: nats.servers, user: user, password: password, name: "vem-\(user)")
            }
            let system = try nats.systemPasswordFile.map {
                try options(user: NATSAccountsConfig.systemUser, passwordFile: $0)
            }
            let connection = try options(
                user: nats.user ?? NATSAccountsConfig.managerUser, passwordFile: nats.passwordFile)
            let bus: NATSManagerBus
            do {
                bus = try NATSManagerBus(
                    configuration: NATSBusConfiguration(
                        connection: connection, site: site, engine: engine, system: system, account: nats.account),
                    logger: Logger(label: "vem.bus.nats"))
            } catch {
                throw EndpointError(error.message)
            }
            let servers = nats.servers.joined(separator: ",")
            return ManagerBusEndpoint(
                bus: bus, engine: bus.engine, description: { "nats \(servers) site \(site)" },
                start: {
                    do { try await bus.start() } catch let error as NATSError { throw EndpointError(error.message) }
                    return 0
                },
                service: NATSBusService(bus: bus))
        }
    }
}

/// Connections the hub may hold: 16,384, or fewer so that 64 descriptors of the process's limit stay free for the
/// journal, the operator API and the Manager's own files (a flood of connections must not starve them).
func connectionBudget() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return 16_384 }
    return max(1, min(16_384, Int(clamping: limit.rlim_cur) - 64))
}

/// Why the bus could not be made or started.
struct EndpointError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
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
