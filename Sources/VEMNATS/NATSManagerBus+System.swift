import Dispatch

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The fields of a `$SYS.ACCOUNT.<acc>.CONNECT` or `DISCONNECT` advisory the Manager needs
/// (`io.nats.server.advisory.v1.client_connect` / `client_disconnect`).
struct SystemDisconnectEvent: Decodable, Sendable {
    struct Server: Decodable, Sendable {
        var id: String
        var name: String?
    }
    struct Client: Decodable, Sendable {
        var id: UInt64
        var user: String?
        var name: String?
        /// The address the connection came from.
        var host: String?
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

    /// The most connections whose address is remembered (a bound against a flood of connects).
    static let maximumConnectAddresses = 100_000

    /// A connection of the Clients' account opened: remember the address it came from, so that the session
    /// whose `hello` names this connection gets it as its ``VEMBus/ManagerLink/peerAddress`` (the Manager
    /// registers a VM's node at its DomU Client's address).
    func systemConnect(_ view: NATSMessageView) {
        guard let event = try? JSONDecoder().decode(SystemDisconnectEvent.self, from: Data(view.payload)),
            let host = event.client.host
        else { return }
        connectAddresses.withLock { addresses in
            if addresses.count >= Self.maximumConnectAddresses { addresses.removeAll() }
            addresses[ConnectionKey(serverID: event.server.id, cid: event.client.id)] = host
        }
    }

    /// The address a connection came from, if its CONNECT advisory arrived.
    func address(of note: NATSEnvelope.ConnectionNote?) -> String? {
        guard let note else { return nil }
        return connectAddresses.withLock { $0[ConnectionKey(serverID: note.serverID, cid: note.cid)] }
    }

    /// A connection of the Clients' account closed: end the session that runs on it (if it is still current
    /// after ``systemDisconnectGrace``).
    func systemDisconnect(_ view: NATSMessageView) {
        let data = Data(view.payload)
        guard let event = try? JSONDecoder().decode(SystemDisconnectEvent.self, from: data) else {
            logger.debug("undecodable $SYS event")
            return
        }
        connectAddresses.withLock { _ = $0.removeValue(forKey: ConnectionKey(serverID: event.server.id, cid: event.client.id)) }
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

/// A connection of a NATS server: the server's id and the connection's id on it.
struct ConnectionKey: Hashable, Sendable {
    var serverID: String
    var cid: UInt64
}
