import Synchronization
import VEMProtocol

/// One connection of a transport, as the ``ManagerEngine`` sees it. The transport implements it (a NIO channel,
/// an in-memory pipe, a NATS session).
public protocol ManagerLink: AnyObject, Sendable {
    /// A description of the peer for logs (`127.0.0.1:53211`); no secrets.
    var peer: String { get }
    /// The peer's IP address (no port), when the transport knows it.
    var peerAddress: String? { get }
    /// Who the peer's TLS certificate (verified against the site CA) names, when the transport has one.
    var certifiedPeer: CertifiedPeer? { get }
    /// Sends messages on this connection, in order. Safe from any thread; never blocks.
    func transmit(_ messages: [Message])
    /// Closes the connection; the transport then reports it with ``ManagerEngine/linkClosed(phase:link:reason:)``.
    func close(reason: String)
}

extension ManagerLink {
    /// Unknown, by default.
    public var peerAddress: String? { nil }
    /// None, by default (no TLS).
    public var certifiedPeer: CertifiedPeer? { nil }
}

/// Who a connection's client certificate names: its holder, role and group, as the site CA signed them. With
/// TLS the certificate is the Client's identity: a `hello` must announce this name, role and group.
public struct CertifiedPeer: Hashable, Sendable, CustomStringConvertible {
    /// The holder's name.
    public var name: String
    /// The role the certificate grants (`dom0`, `domU`, `batch`, `manager`, `operator`).
    public var role: String
    /// The group, for a guest.
    public var group: String?

    /// Creates a certified peer.
    public init(name: String, role: String, group: String? = nil) {
        self.name = name
        self.role = role
        self.group = group
    }

    /// `name (role[, group G])`.
    public var description: String { "\(name) (\(role)\(group.map { ", group \($0)" } ?? ""))" }
}

/// Where one connection stands, kept by the transport beside the connection (on its event loop) and handed to
/// the engine with every message.
public enum LinkPhase: Sendable {
    /// Connected; the first message must be `hello`.
    case awaitingHello
    /// Admitted as this session.
    case active(ClientSession)
    /// Done (rejected, left, or closed); further input is ignored.
    case closed
}

/// What the transport must do after the engine handled a message.
public enum LinkAction: Hashable, Sendable {
    /// Keep going.
    case proceed
    /// Close the connection; `reason` is what was logged (and reported as an event).
    case close(reason: String)
}

/// One admitted connection of one Client.
public final class ClientSession: Sendable {
    /// Who the Client is.
    public let identity: ClientIdentity
    /// The connection.
    public let link: any ManagerLink
    let record: ClientRecord

    init(identity: ClientIdentity, link: any ManagerLink, record: ClientRecord) {
        self.identity = identity
        self.link = link
        self.record = record
    }
}

/// Everything the Manager keeps about one Client across its connections: the command stream and the commands
/// awaiting an outcome.
final class ClientRecord: Sendable {
    struct State {
        var identity: ClientIdentity
        var stream: CommandStream.ManagerSide
        var session: ClientSession?
        var waiters: [UInt64: PendingCommand] = [:]
    }

    let name: String
    let state: Mutex<State>

    init(identity: ClientIdentity, stream: CommandStream.ManagerSide) {
        name = identity.name
        state = Mutex(State(identity: identity, stream: stream))
    }
}

/// Carries out command-stream directives: messages to send and outcomes to resolve, gathered under the record's
/// lock and acted on after it is released.
struct StreamEffects {
    var messages: [Message] = []
    var outcomes: [(PendingCommand, CommandOutcome)] = []

    mutating func take(_ directives: [CommandStream.ManagerSide.Directive], from state: inout ClientRecord.State) {
        for directive in directives {
            switch directive {
            case .transmit(let message):
                messages.append(message)
            case .deliverResult(let seq, let result):
                if let pending = state.waiters.removeValue(forKey: seq) { outcomes.append((pending, .result(result))) }
            case .outcomeUnknown(let seq):
                if let pending = state.waiters.removeValue(forKey: seq) { outcomes.append((pending, .unknown)) }
            case .cancelled(let seq):
                if let pending = state.waiters.removeValue(forKey: seq) { outcomes.append((pending, .cancelled)) }
            }
        }
    }

    func perform(on link: (any ManagerLink)?) {
        if !messages.isEmpty { link?.transmit(messages) }
        for (pending, outcome) in outcomes { pending.resolve(outcome) }
    }
}
