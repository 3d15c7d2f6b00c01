#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The fields of a `$SYS.ACCOUNT.<acc>.DISCONNECT` advisory the Manager needs
/// (`io.nats.server.advisory.v1.client_disconnect`).
struct SystemDisconnectEvent: Decodable, Sendable {
    struct Server: Decodable, Sendable {
        var id: String
        var name: String?
    }
    struct Client: Decodable, Sendable {
        var id: UInt64
        var user: String?
        var name: String?
    }
    var server: Server
    var client: Client
    var reason: String?
}

extension NATSManagerBus {
    /// A connection of the Clients' account closed: end the session that runs on it (if it is still current).
    func systemDisconnect(_ view: NATSMessageView) {
        let data = Data(view.payload)
        guard let event = try? JSONDecoder().decode(SystemDisconnectEvent.self, from: data) else {
            logger.debug("undecodable $SYS event")
            return
        }
        let matching = table.withLock { table in
            table.values.compactMap(\.link).filter {
                $0.note?.cid == event.client.id && $0.note?.serverID == event.server.id
            }
        }
        for link in matching {
            systemDisconnects()
            closeLink(link, reason: "NATS connection closed (\(event.reason ?? "no reason"))")
        }
    }
}
