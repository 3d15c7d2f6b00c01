import VEMProtocol

/// What the Manager learns from its bus: membership messages (the paper's Spread membership) and regular
/// messages that are not consumed by the bus itself (unsolicited `property` reports, `event`s).
public enum BusEvent: Hashable, Sendable {
    /// A Client was admitted. `resumed` is `true` when it continues the command stream of the same incarnation
    /// (a reconnect after a short disconnect).
    case join(ClientIdentity, resumed: Bool)
    /// A Client went away on purpose (`bye`). Its commands without a result are `.unknown`.
    case leave(name: String, reason: String)
    /// A Client's connection was lost (closed socket, heartbeat timeout, bad input, slow consumer, replaced).
    /// Its command stream is kept: a reconnect of the same incarnation resumes it.
    case disconnect(name: String, reason: String)
    /// A connection that never got admitted was closed (bad credentials, wrong version, garbage before `hello`).
    case connectionRejected(peer: String, reason: String)
    /// A regular message from an admitted Client (unsolicited `property`, `event`), when no message handler is
    /// installed.
    case message(from: String, Message)
}

/// What a Client learns from its bus.
public enum ClientBusEvent: Hashable, Sendable {
    /// The Manager admitted this Client on a new connection.
    case connected(Welcome)
    /// The connection was lost; the bus reconnects by itself (with backoff).
    case disconnected(reason: String)
    /// The Manager refused this Client.
    case rejected(Reject)
    /// A regular message from the Manager (`get_property` without a property handler, `event`, …).
    case message(Message)
}

/// Where a regular message goes.
public enum Recipients: Hashable, Sendable {
    /// One Client, by name.
    case client(String)
    /// Every connected Client whose identity has this group.
    case group(String)
    /// Every connected Client.
    case all
    /// Every connected Client whose name is in the set (`vem ask --clients PATTERN`).
    case clients(Set<String>)

    /// Whether a Client with `identity` is addressed.
    /// - Parameter identity: The Client's identity.
    @inlinable
    public func includes(_ identity: ClientIdentity) -> Bool {
        switch self {
        case .client(let name): identity.name == name
        case .group(let group): identity.group == group
        case .all: true
        case .clients(let names): names.contains(identity.name)
        }
    }
}
