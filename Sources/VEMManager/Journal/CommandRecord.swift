import Foundation
import VEMProtocol
import VEMRules

/// Where a journaled command stands.
public enum CommandState: String, Hashable, Sendable, Codable, CaseIterable {
    /// Written to the journal, about to be handed to the bus, or handed to the command stream of a Client that
    /// is not connected (sent when it comes back).
    case queued
    /// Handed to the Client's command stream (sent, or waiting for the stream's window).
    case sent
    /// The Client confirmed it reached its Runner (executed or executing).
    case acknowledged
    /// The Client executed it and reported success.
    case done
    /// The Client executed it (or refused it) and reported failure.
    case failed
    /// It may or may not have run: the Client's incarnation ended before its result came back.
    case unknown

    /// Whether the command has its final outcome.
    public var isFinal: Bool { self == .done || self == .failed || self == .unknown }

    /// The states a command can still leave.
    static let open: [CommandState] = [.queued, .sent, .acknowledged]
}

/// One command as the journal holds it.
public struct CommandRecord: Hashable, Sendable, Codable {
    /// Row id.
    public var id: Int64
    /// The Client it was sent to.
    public var client: String
    /// Its sequence number in that Client's command stream.
    public var seq: UInt64
    /// The command plugin's name.
    public var name: String
    /// Its arguments.
    public var arguments: [StoredArgument]
    /// The trigger whose `cmd` issued it (nil for commands from elsewhere).
    public var trigger: String?
    /// Where it stands.
    public var state: CommandState
    /// When it was journaled.
    public var createdAt: Double
    /// When its state last changed.
    public var updatedAt: Double
    /// A short summary of its result (`ok exit 0, 12 ms`, `failed: …`); never the output.
    public var result: String?

    /// The command as the bus carries it.
    public var command: Command {
        Command(seq: seq, name: name, arguments: arguments.map(\.namedValue))
    }
}

/// A command argument stored with its type, so it can be resent exactly (JSON would turn a float `2.0` into the
/// integer 2).
public struct StoredArgument: Hashable, Sendable, Codable {
    /// The argument's name.
    public var name: String
    /// `null`, `bool`, `int`, `float`, `str`, `list`, `dict` (`json`: a JSON-text argument of protocol 1).
    public var type: String
    /// The value.
    public var value: JSON

    /// Stores a wire argument.
    public init(_ argument: NamedValue) {
        name = argument.name
        type = argument.value.typeName
        value = argument.value
    }

    /// Back to the wire.
    public var namedValue: NamedValue {
        switch (type, value) {
        case ("float", .int(let i)): NamedValue(name, .float(Double(i)))
        case ("json", .string(let text)):
            NamedValue(name, (try? JSONDecoder().decode(JSON.self, from: Data(text.utf8))) ?? .string(text))
        default: NamedValue(name, value)
        }
    }
}

/// One entry of the decision log.
public struct DecisionRecord: Hashable, Sendable, Codable {
    /// When (seconds since 1970).
    public var time: Double
    /// The trigger that decided.
    public var trigger: String
    /// What it did (`send_command(h1, drop-caches)`, `policy.rebalance()`).
    public var action: String
    /// Why (`expr true`, `not available yet`, an error).
    public var reason: String
    /// The VM concerned (pool decisions of `policy.rebalance()`), if any.
    public var vm: String? = nil
    /// The group concerned (pool decisions), if any.
    public var group: String? = nil

    /// Creates a decision.
    public init(
        time: Double, trigger: String, action: String, reason: String, vm: String? = nil, group: String? = nil
    ) {
        self.time = time
        self.trigger = trigger
        self.action = action
        self.reason = reason
        self.vm = vm
        self.group = group
    }
}

/// A VM in VEM's inventory (filled by the policy layer).
public struct InventoryRecord: Hashable, Sendable, Codable {
    /// The VM's name.
    public var name: String
    /// Its group.
    public var group: String?
    /// Its host.
    public var host: String?
    /// `booting`, `running`, `draining`, …
    public var state: String
    /// When last changed.
    public var updatedAt: Double
    /// When the VM was ordered created (nil in a journal written before creation times were kept).
    public var createdAt: Double?

    /// Creates a record.
    public init(
        name: String, group: String?, host: String?, state: String, updatedAt: Double, createdAt: Double? = nil
    ) {
        self.name = name
        self.group = group
        self.host = host
        self.state = state
        self.updatedAt = updatedAt
        self.createdAt = createdAt
    }
}

extension CommandResult {
    /// `ok exit 0, 12 ms` / `failed exit 1: message` / `refused: message` — never the output.
    var summary: String {
        var text = "\(status)"
        if let exitCode { text += " exit \(exitCode)" }
        if let error, !error.isEmpty { text += ": " + String(error.prefix(200)) }
        text += ", \(durationMicroseconds / 1000) ms"
        return text
    }
}
