import Logging
import NIOSSL
import VEMBus
import VEMConfig
import VEMCore
import VEMHub
import VEMTrust

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded hub's bus for a Client's settings, and the Client's token: all the transport a guest's agent
/// (`vem-agent`) has. `bus = nats` needs VEMClient's ``ClientTransport`` (`vem agent`), which links libnats.
public enum HubTransport {
    /// Makes a ``VEMHub/HubClient`` to `manager` (reconnecting with backoff, heartbeats every
    /// `heartbeat_interval`, TLS with the settings' files).
    /// - Throws: ``ClientError`` `.busUnavailable` when the TLS files cannot be used, or when the settings name
    ///   another bus than the hub.
    public static func make(
        identity: ClientIdentity, token: String, settings: ClientSettings, handlers: ClientHandlers,
        logger: Logger = Logger(label: "vem.agent.bus")
    ) throws(ClientError) -> any ClientBus {
        guard settings.bus == .hub else {
            throw ClientError(
                .busUnavailable, "error: bus = \(settings.bus.rawValue) needs `vem agent`; this agent has the hub only")
        }
        var tls: NIOSSLContext?
        if let files = settings.tls {
            do {
                tls = try TLSContexts.client(TLSFiles(ca: files.ca, certificate: files.certificate, key: files.key))
            } catch {
                throw ClientError(.busUnavailable, "error: TLS: \(error)")
            }
        }
        let configuration = HubClientConfiguration(
            host: settings.manager.host, port: settings.manager.port,
            heartbeatInterval: settings.heartbeatInterval, tls: tls)
        return HubClient(
            configuration: configuration, identity: identity, token: token, handlers: handlers, logger: logger)
    }

    /// ``make(identity:token:settings:handlers:logger:)`` as a ``ClientService/BusFactory``.
    public static func factory(logger: Logger) -> ClientService.BusFactory {
        @Sendable func factory(
            identity: ClientIdentity, token: String, settings: ClientSettings, handlers: ClientHandlers
        ) throws(ClientError) -> any ClientBus {
            try make(identity: identity, token: token, settings: settings, handlers: handlers, logger: logger)
        }
        return factory
    }

    /// The token from `token`, or read from `token_file` (surrounding white space dropped); empty when neither is set.
    /// - Parameter readFile: Reads a file (injected in tests).
    /// - Throws: ``ClientError`` `.token` when the file cannot be read or holds no token.
    public static func token(
        _ settings: ClientSettings, readFile: (String) -> [UInt8]?
    ) throws(ClientError) -> String {
        if let token = settings.token { return token }
        guard let path = settings.tokenFile else { return "" }
        guard let bytes = readFile(path) else {
            throw ClientError(.token, "error: cannot read token_file \(path)")
        }
        let token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        guard !token.isEmpty else { throw ClientError(.token, "error: token_file \(path) is empty") }
        return token
    }
}
