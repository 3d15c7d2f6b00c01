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
    /// `vm.create(…)`, `vm.destroy(…)`, `vm.drain(…)`, `vm.migrate(…)`: one VM operation through the pool.
    case vm(VMRequest)

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
        case .vm(let request): return request.description
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
            "vm": .object(VMObject(self)),
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
func clientName(_ value: Value, in function: String, what: String = "client") throws -> String {
    switch value {
    case .string(let name): return name
    case .object(let object):
        if case .string(let name)? = try object.attribute(named: "name") { return name }
        throw RuleError(.type, "\(function)(): '\(object.typeName)' has no name")
    default:
        throw RuleError(.type, "\(function)(): a \(what) must be a \(what) object or a name, not '\(value.typeName)'")
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

/// `vm`: `create(group, host=None)`, `destroy(v)`, `drain(v)`, `migrate(v, host)`. A group, VM or host is
/// given by name or as its object (`manager.groups[0]`, `manager.vms[0]`, `manager.hosts[0]`).
final class VMObject: HostObject {
    private let methods: [String: Value]

    init(_ collector: ActionCollector) {
        methods = [
            "create": .hostFunction("create") { positional, keyword in
                let a = try Self.arguments("create", ["group", "host"], optional: ["host"], positional, keyword)
                collector.append(.vm(.create(group: a["group"] ?? "", host: a["host"])))
                return .none
            },
            "destroy": .hostFunction("destroy") { positional, keyword in
                let a = try Self.arguments("destroy", ["vm"], positional, keyword)
                collector.append(.vm(.destroy(vm: a["vm"] ?? "")))
                return .none
            },
            "drain": .hostFunction("drain") { positional, keyword in
                let a = try Self.arguments("drain", ["vm"], positional, keyword)
                collector.append(.vm(.drain(vm: a["vm"] ?? "")))
                return .none
            },
            "migrate": .hostFunction("migrate") { positional, keyword in
                let a = try Self.arguments("migrate", ["vm", "host"], positional, keyword)
                collector.append(.vm(.migrate(vm: a["vm"] ?? "", host: a["host"] ?? "")))
                return .none
            },
        ]
    }

    /// The arguments of `function` by name: positional ones in `order`, then keywords; every one required
    /// unless listed in `optional`.
    static func arguments(
        _ function: String, _ order: [String], optional: Set<String> = [], _ positional: [Value],
        _ keyword: [(name: String, value: Value)]
    ) throws -> [String: String] {
        guard positional.count <= order.count else {
            throw RuleError(.type, "vm.\(function)() takes at most \(order.count) arguments")
        }
        var values: [String: String] = [:]
        for (name, value) in zip(order, positional) + keyword.map({ ($0.name, $0.value) }) {
            guard order.contains(name) else {
                throw RuleError(.type, "vm.\(function)() got an unexpected keyword argument '\(name)'")
            }
            guard values[name] == nil else {
                throw RuleError(.type, "vm.\(function)() got two values for '\(name)'")
            }
            if value == .none, optional.contains(name) { continue }
            values[name] = try clientName(value, in: "vm.\(function)", what: name)
        }
        for name in order where values[name] == nil && !optional.contains(name) {
            throw RuleError(.type, "vm.\(function)() needs '\(name)'")
        }
        return values
    }

    var typeName: String { "vm" }
    var attributeNames: [String] { methods.keys.sorted() }
    func attribute(named name: String) -> Value? { methods[name] }
}
