import Foundation
import Logging
import VEMBus
import VEMConfig
import VEMClientCore
import VEMNATS

/// The production bus for a host's Client (`vem agent`): the hub (``VEMClientCore/HubTransport``) or NATS.
public enum ClientTransport {
    /// Makes the bus `settings.bus` names: the embedded hub (a ``VEMHub/HubClient`` to `manager`, reconnecting with
    /// backoff, heartbeats every `heartbeat_interval`), or NATS (a ``VEMNATS/NATSClient`` to `nats_url` as user
    /// `nats_user`, by default the Client's name, with the password in `nats_password_file`).
    /// - Parameter readFile: Reads the password file (injected in tests).
    /// - Throws: ``ClientError`` `.busUnavailable` when the NATS settings cannot be used (no site, unreadable
    ///   password file, a name that cannot be a subject token).
    public static func make(
        identity: ClientIdentity, token: String, settings: ClientSettings, handlers: ClientHandlers,
        logger: Logger = Logger(label: "vem.agent.bus"),
        readFile: (String) -> [UInt8]? = { path in FileManager.default.contents(atPath: path).map { [UInt8]($0) } }
    ) throws(ClientError) -> any ClientBus {
        switch settings.bus {
        case .hub:
            return try HubTransport.make(
                identity: identity, token: token, settings: settings, handlers: handlers, logger: logger)
        case .nats:
            let nats = settings.nats
            guard let site = nats.site else {
                throw ClientError(.busUnavailable, "error: bus = nats needs 'site' in [client]")
            }
            var password: String?
            if let path = nats.passwordFile {
                guard let bytes = readFile(path) else {
                    throw ClientError(.busUnavailable, "error: cannot read nats_password_file \(path)")
                }
                password = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            var connection = NATSConnectionOptions(
                servers: nats.servers, user: nats.user ?? identity.name, password: password,
                name: "vem-\(identity.name)")
            // With TLS files, the NATS connection presents this Client's certificate too (a server with
            // `verify_and_map` then takes the NATS user from it).
            connection.tls = settings.tls.map { ($0.ca, $0.certificate, $0.key) }
            do {
                return try NATSClient(
                    configuration: NATSClientConfiguration(
                        connection: connection, site: site, heartbeatInterval: settings.heartbeatInterval),
                    identity: identity, token: token, handlers: handlers, logger: logger)
            } catch {
                throw ClientError(.busUnavailable, "error: bus = nats: \(error.message)")
            }
        }
    }

    /// ``make(identity:token:settings:handlers:logger:readFile:)`` as a ``ClientService/BusFactory``.
    public static func factory(logger: Logger) -> ClientService.BusFactory {
        @Sendable func factory(
            identity: ClientIdentity, token: String, settings: ClientSettings, handlers: ClientHandlers
        ) throws(ClientError) -> any ClientBus {
            try make(identity: identity, token: token, settings: settings, handlers: handlers, logger: logger)
        }
        return factory
    }
}
