import Synchronization
import VEMProtocol
import VEMRules

/// What a trigger's `cmd` asked for. Collected during evaluation and carried out afterwards by the Sender,
/// with the trigger's name, so every command can be traced back to the rule that caused it.
public enum TriggerAction: Hashable, Sendable, CustomStringConvertible {
    /// `sender.send_get_property(clients=…, names=…)`: `clients` nil means every connected Client, empty
    /// `names` every property.
    case getProperty(clients: [String]?, names: [String])
    /// `sender.send_command(client, name, …)`.
    case command(client: String, name: String, arguments: [NamedValue])
    /// `log(…)`.
    case log(String)
    /// `policy.rebalance()`: plan the pool and send the resulting commands.
    case rebalance
    /// An action of a later layer (`vm.*`), recorded as not available yet.
    case unavailable(String)

    /// A one-line description for logs and the decision log.
    public var description: String {
        switch self {
        case .getProperty(let clients, let names):
            let who = clients.map { $0.joined(separator: ",") } ?? "all"
            return "send_get_property(clients=\(who), names=\(names.isEmpty ? "all" : names.joined(separator: ",")))"
        case .command(let client, let name, let arguments):
            return "send_command(\(client), \(name)\(arguments.isEmpty ? "" : ", \(arguments.count) args"))"
        case .log(let text): return "log(\(text))"
        case .rebalance: return "policy.rebalance()"
        case .unavailable(let call): return call
        }
    }
}

/// Collects the actions of one evaluation; provides the action globals (`sender`, `log`, `vm`, `policy`).
final class ActionCollector: Sendable {
    private let storage = Mutex<[TriggerAction]>([])

    var actions: [TriggerAction] { storage.withLock { $0 } }

    func append(_ action: TriggerAction) { storage.withLock { $0.append(action) } }

    /// The globals of one evaluation: `manager` plus the action objects.
    func globals(manager: any HostObject) -> [String: Value] {
        [
            "manager": .object(manager), "sender": .object(SenderObject(self)), "log": logFunction,
            "vm": .object(PlaceholderObject(self, typeName: "vm", methods: ["create", "destroy", "migrate", "drain"])),
            "policy": .object(PolicyObject(self)),
        ]
    }

    private var logFunction: Value {
        .hostFunction("log") { [self] positional, keyword in
            let parts = positional.map { value -> String in
                if case .string(let s) = value { return s }
                return value.repr
            } + keyword.map { "\($0.name)=\($0.value.repr)" }
            append(.log(parts.joined(separator: " ")))
            return .none
        }
    }
}

/// The name of a Client given as a client object or a string.
func clientName(_ value: Value, in function: String) throws -> String {
    switch value {
    case .string(let name): return name
    case .object(let object):
        if case .string(let name)? = try object.attribute(named: "name") { return name }
        throw RuleError(.type, "\(function)(): '\(object.typeName)' has no name")
    default:
        throw RuleError(.type, "\(function)(): a client must be a client object or a name, not '\(value.typeName)'")
    }
}

/// `sender`: `send_get_property(clients=…, names=…)` and `send_command(client, name, …args, **kwargs)`.
final class SenderObject: HostObject {
    private let methods: [String: Value]

    init(_ collector: ActionCollector) {
        methods = [
            "send_get_property": .hostFunction("send_get_property") { positional, keyword in
                var clients: [String]?
                var names: [String] = []
                func strings(_ value: Value, _ what: String) throws -> [String] {
                    switch value {
                    case .none: return []
                    case .list(let items), .tuple(let items):
                        return try items.map { item in
                            if what == "clients" { return try clientName(item, in: "send_get_property") }
                            guard case .string(let s) = item else {
                                throw RuleError(.type, "send_get_property(): names must be strings")
                            }
                            return s
                        }
                    default:
                        if what == "clients" { return [try clientName(value, in: "send_get_property")] }
                        guard case .string(let s) = value else {
                            throw RuleError(.type, "send_get_property(): names must be strings")
                        }
                        return [s]
                    }
                }
                let arguments = zip(["clients", "names"], positional).map { ($0, $1) } + keyword.map { ($0.name, $0.value) }
                guard positional.count <= 2 else { throw RuleError(.type, "send_get_property() takes at most 2 positional arguments") }
                for (name, value) in arguments {
                    switch name {
                    case "clients": clients = value == .none ? nil : try strings(value, "clients")
                    case "names": names = try strings(value, "names")
                    default: throw RuleError(.type, "send_get_property() got an unexpected keyword argument '\(name)'")
                    }
                }
                collector.append(.getProperty(clients: clients, names: names))
                return .none
            },
            "send_command": .hostFunction("send_command") { positional, keyword in
                guard positional.count >= 2 else {
                    throw RuleError(.type, "send_command() needs a client and a command name, got \(positional.count) argument\(positional.count == 1 ? "" : "s")")
                }
                let client = try clientName(positional[0], in: "send_command")
                guard case .string(let name) = positional[1] else {
                    throw RuleError(.type, "send_command() command name must be a string, not '\(positional[1].typeName)'")
                }
                var arguments: [NamedValue] = []
                // Positional arguments have an empty name on the wire (VEMProtocol's `Command`).
                for value in positional.dropFirst(2) { arguments.append(NamedValue("", value.wire)) }
                for (name, value) in keyword { arguments.append(NamedValue(name, value.wire)) }
                collector.append(.command(client: client, name: name, arguments: arguments))
                return .none
            },
        ]
    }

    var typeName: String { "sender" }
    var attributeNames: [String] { methods.keys.sorted() }
    func attribute(named name: String) -> Value? { methods[name] }
}

/// `policy`: `rebalance()` asks the Sender to plan the pool (``PoolController``) and send the commands.
final class PolicyObject: HostObject {
    private let methods: [String: Value]

    init(_ collector: ActionCollector) {
        methods = [
            "rebalance": .hostFunction("rebalance") { positional, keyword in
                guard positional.isEmpty, keyword.isEmpty else {
                    throw RuleError(.type, "policy.rebalance() takes no arguments")
                }
                collector.append(.rebalance)
                return .none
            }
        ]
    }

    var typeName: String { "policy" }
    var attributeNames: [String] { methods.keys.sorted() }
    func attribute(named name: String) -> Value? { methods[name] }
}

/// `vm` until the policy layer implements them: every call is recorded as "not available yet"
/// and returns `None`, so configurations written for them run.
final class PlaceholderObject: HostObject {
    let typeName: String
    private let methods: [String: Value]

    init(_ collector: ActionCollector, typeName: String, methods names: [String]) {
        self.typeName = typeName
        var methods: [String: Value] = [:]
        for name in names {
            methods[name] = .hostFunction(name) { positional, keyword in
                let args = positional.map(\.repr) + keyword.map { "\($0.name)=\($0.value.repr)" }
                collector.append(.unavailable("\(typeName).\(name)(\(args.joined(separator: ", ")))"))
                return .none
            }
        }
        self.methods = methods
    }

    var attributeNames: [String] { methods.keys.sorted() }
    func attribute(named name: String) -> Value? { methods[name] }
}
