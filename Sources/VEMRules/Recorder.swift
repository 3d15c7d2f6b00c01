import Synchronization

/// One call of an action recorded instead of performed (by `vem eval` and tests).
public struct RecordedCall: Sendable, CustomStringConvertible {
    /// The object (`sender`) or empty for a global function (`log`).
    public var object: String
    /// The method or function name.
    public var method: String
    /// Positional arguments.
    public var positional: [Value]
    /// Keyword arguments in call order.
    public var keyword: HostFunction.Keywords

    /// `sender.send_command("h1", "reboot", force=True)`.
    public var description: String {
        let args = positional.map(\.repr) + keyword.map { "\($0.name)=\($0.value.repr)" }
        return (object.isEmpty ? "" : object + ".") + method + "(" + args.joined(separator: ", ") + ")"
    }
}

/// Collects recorded calls; safe to share between evaluations on several threads.
public final class CallRecorder: Sendable {
    private let storage = Mutex<[RecordedCall]>([])

    /// An empty recorder.
    public init() {}

    /// The calls so far, in order.
    public var calls: [RecordedCall] { storage.withLock { $0 } }

    /// Appends a call.
    public func record(_ call: RecordedCall) { storage.withLock { $0.append(call) } }

    /// Forgets every call.
    public func reset() { storage.withLock { $0.removeAll() } }

    /// A `log(...)` global function that records its arguments and returns `None`.
    public var logFunction: Value {
        .hostFunction("log") { [self] args, kw in
            record(RecordedCall(object: "", method: "log", positional: args, keyword: kw))
            return .none
        }
    }
}

/// A `sender` that records `send_get_property(...)` and `send_command(client, name, ...)` instead of sending.
public final class RecordingSender: HostObject {
    /// Where calls go.
    public let recorder: CallRecorder
    private let methods: [String: Value]

    /// Creates a sender that records into `recorder`.
    public init(recorder: CallRecorder) {
        self.recorder = recorder
        methods = [
            "send_get_property": .hostFunction("send_get_property") { [recorder] args, kw in
                recorder.record(RecordedCall(object: "sender", method: "send_get_property", positional: args, keyword: kw))
                return .none
            },
            "send_command": .hostFunction("send_command") { [recorder] args, kw in
                guard args.count >= 2 else {
                    throw RuleError(.type, "send_command() needs a client and a command name, got \(args.count) argument\(args.count == 1 ? "" : "s")")
                }
                guard case .string = args[1] else {
                    throw RuleError(.type, "send_command() command name must be a string, not '\(args[1].typeName)'")
                }
                recorder.record(RecordedCall(object: "sender", method: "send_command", positional: args, keyword: kw))
                return .none
            },
        ]
    }

    /// `sender`.
    public var typeName: String { "sender" }
    /// The action names.
    public var attributeNames: [String] { methods.keys.sorted() }
    /// An action, or nil.
    public func attribute(named name: String) -> Value? { methods[name] }
}

/// An action object whose every method records its call (`vm.create(…)`, `policy.rebalance()`); the Manager
/// checks the arguments when it carries them out.
public final class RecordingActions: HostObject {
    /// The object's name (`vm`).
    public let typeName: String
    private let methods: [String: Value]

    /// Records calls of `methods` on `name` into `recorder`.
    public init(_ name: String, methods names: [String], recorder: CallRecorder) {
        typeName = name
        var methods: [String: Value] = [:]
        for method in names {
            methods[method] = .hostFunction(method) { [recorder] args, kw in
                recorder.record(RecordedCall(object: name, method: method, positional: args, keyword: kw))
                return .none
            }
        }
        self.methods = methods
    }

    /// The action names.
    public var attributeNames: [String] { methods.keys.sorted() }
    /// An action, or nil.
    public func attribute(named name: String) -> Value? { methods[name] }
}

extension Snapshot {
    /// The global names `vem eval` provides: `manager`, `sender`, `log`, `vm`, `policy`.
    public static let evalGlobalNames: Set<String> = ["manager", "sender", "log", "vm", "policy"]

    /// The globals for `vem eval`: `manager` over this snapshot, and the actions recording their calls.
    public func evalGlobals(recorder: CallRecorder) -> [String: Value] {
        [
            "manager": .object(manager), "sender": .object(RecordingSender(recorder: recorder)),
            "log": recorder.logFunction,
            "vm": .object(RecordingActions("vm", methods: ["create", "destroy", "drain", "migrate"], recorder: recorder)),
            "policy": .object(RecordingActions("policy", methods: ["rebalance"], recorder: recorder)),
        ]
    }
}
