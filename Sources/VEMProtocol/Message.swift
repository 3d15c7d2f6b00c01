/// One message of the VEM protocol, between the Manager and a Client.
///
/// The case is the paper's `msg_type` field; the associated value is the payload. Encode with
/// ``encodeFrame(into:maximumFrameSize:)``, decode with ``init(decodingBody:)`` or a ``FrameDecoder``.
///
/// Direction: `hello`, `heartbeat`, `property`, `commandAck`, `commandResult`, `event`, `bye` go Client → Manager;
/// `welcome`, `reject`, `heartbeat`, `getProperty`, `command`, `resultAck`, `bye` go Manager → Client.
public enum Message: Hashable, Sendable {
    /// A Client introduces itself (first message on every connection).
    case hello(Hello)
    /// The Manager accepted a `hello`.
    case welcome(Welcome)
    /// The Manager refused a `hello`; the connection is closed after it.
    case reject(Reject)
    /// Liveness signal, both directions.
    case heartbeat(Heartbeat)
    /// The Manager asks a Client for properties.
    case getProperty(GetProperty)
    /// A Client reports property values (answer to `getProperty`, or scheduled by `ticks`).
    case property(PropertyReport)
    /// The Manager asks a Client to execute a command (reliable command stream).
    case command(Command)
    /// A Client acknowledges commands cumulatively (reliable command stream).
    case commandAck(CommandAck)
    /// A Client reports the outcome of a command (reliable command stream).
    case commandResult(CommandResult)
    /// The Manager confirms the results it has received, so the Client can forget them (reliable command stream).
    case resultAck(ResultAck)
    /// Something happened on a Client (a VM booted, a job finished, …).
    case event(Event)
    /// Graceful leave, either direction.
    case bye(Bye)

    /// The message's `msg_type`.
    @inlinable
    public var type: MessageType {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .reject: .reject
        case .heartbeat: .heartbeat
        case .getProperty: .getProperty
        case .property: .property
        case .command: .command
        case .commandAck: .commandAck
        case .commandResult: .commandResult
        case .resultAck: .resultAck
        case .event: .event
        case .bye: .bye
        }
    }
}

/// The paper's `msg_type`: which kind of message a frame carries. The raw value is the byte on the wire.
public enum MessageType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `hello`.
    case hello = 1
    /// `welcome`.
    case welcome = 2
    /// `reject`.
    case reject = 3
    /// `heartbeat`.
    case heartbeat = 4
    /// `get_property`.
    case getProperty = 5
    /// `property`.
    case property = 6
    /// `command`.
    case command = 7
    /// `command_ack`.
    case commandAck = 8
    /// `command_result`.
    case commandResult = 9
    /// `result_ack`.
    case resultAck = 10
    /// `event`.
    case event = 11
    /// `bye`.
    case bye = 12

    /// The paper-style name (`get_property`).
    public var description: String {
        switch self {
        case .hello: "hello"
        case .welcome: "welcome"
        case .reject: "reject"
        case .heartbeat: "heartbeat"
        case .getProperty: "get_property"
        case .property: "property"
        case .command: "command"
        case .commandAck: "command_ack"
        case .commandResult: "command_result"
        case .resultAck: "result_ack"
        case .event: "event"
        case .bye: "bye"
        }
    }
}
