import Dispatch

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
    /// How long a `$SYS` DISCONNECT waits before it ends a session. The advisory comes on the Manager's system
    /// connection, the Client's last messages on its main one, and nothing orders the two: a Client that says
    /// `bye` and closes can have its DISCONNECT processed first, which would turn a graceful `leave` into a
    /// `disconnect` and drop the `bye` as stale. Waiting a moment lets a `bye` already in flight win.
    static let systemDisconnectGrace: Double = 0.5

    /// A connection of the Clients' account closed: end the session that runs on it (if it is still current
    /// after ``systemDisconnectGrace``).
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
        let reason = "NATS connection closed (\(event.reason ?? "no reason"))"
        for link in matching {
            DispatchQueue.global().asyncAfter(deadline: DispatchTime.now() + Self.systemDisconnectGrace) { [self] in
                guard !link.closed.load(ordering: .acquiring) else { return }
                systemDisconnects()
                closeLink(link, reason: reason)
            }
        }
    }
}
