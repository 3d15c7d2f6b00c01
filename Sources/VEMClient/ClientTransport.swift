import Foundation
import Logging
import VEMBus
import VEMConfig
import VEMHub

/// The production bus for a Client's settings.
public enum ClientTransport {
    /// Makes the bus `settings.bus` names: the embedded hub (a ``VEMHub/HubClient`` to `manager`, reconnecting with
    /// backoff, heartbeats every `heartbeat_interval`). NATS is not available yet.
    /// - Throws: ``ClientError`` `.busUnavailable` for `bus = nats`.
    public static func make(
        identity: ClientIdentity, token: String, settings: ClientSettings, handlers: ClientHandlers,
        logger: Logger = Logger(label: "vem.agent.bus")
    ) throws(ClientError) -> any ClientBus {
        switch settings.bus {
        case .hub:
            let configuration = HubClientConfiguration(
                host: settings.manager.host, port: settings.manager.port,
                heartbeatInterval: settings.heartbeatInterval)
            return HubClient(
                configuration: configuration, identity: identity, token: token, handlers: handlers, logger: logger)
        case .nats:
            throw ClientError(
                .busUnavailable,
                "error: bus = nats is not available yet in this version of vem; use bus = hub (the default: the "
                    + "Manager's embedded hub at 'manager = host:port')")
        }
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
        let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ClientError(.token, "error: token_file \(path) is empty") }
        return token
    }
}
