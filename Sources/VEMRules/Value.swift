/// A value of the rule language.
///
/// Values are immutable (the language has no assignment), so lists and dicts are plain
/// copy-on-write Swift collections and a ``Value`` can be shared freely across threads.
public enum Value: Sendable {
    /// `None`.
    case none
    /// `True` / `False`.
    case bool(Bool)
    /// A 64-bit signed integer; overflow is an error, never a wrap.
    case int(Int64)
    /// A double-precision float.
    case float(Double)
    /// A string of Unicode scalars.
    case string(String)
    /// A list.
    case list([Value])
    /// A tuple.
    case tuple([Value])
    /// A dict, ordered by insertion.
    case dict(Dict)
    /// A builtin, a lambda, a bound method or a host function.
    case function(Callable)
    /// An object provided by the host (`manager`, a client, `sender`).
    case object(any HostObject)

    /// The type name used in messages (`int`, `list`, `NoneType`, or the host object's type name).
    public var typeName: String {
        switch self {
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .list: "list"
        case .tuple: "tuple"
        case .dict: "dict"
        case .function(let f): f.isBuiltin ? "builtin_function_or_method" : "function"
        case .object(let o): o.typeName
        }
    }

    /// Truthiness: `None`, `False`, zero, and empty strings and collections are false.
    public var isTruthy: Bool {
        switch self {
        case .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .float(let d): d != 0
        case .string(let s): !s.isEmpty
        case .list(let a), .tuple(let a): !a.isEmpty
        case .dict(let d): d.count != 0
        case .function, .object: true
        }
    }

    /// Whether the value may be a dict key (no lists or dicts, also not inside tuples).
    var isHashable: Bool {
        switch self {
        case .list, .dict: false
        case .tuple(let items): items.allSatisfy(\.isHashable)
        default: true
        }
    }
}

/// A function value. Builtins, lambdas, bound methods and host functions are all callables.
public struct Callable: Sendable {
    enum Kind: Sendable {
        case builtin(Builtin)
        case host(HostFunction)
        case lambda(LambdaValue)
        indirect case method(receiver: Value, name: String)
    }

    let kind: Kind
    /// The name shown in messages (`len`, `lambda`, `send_command`).
    public var name: String

    init(_ kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    /// Wraps a host function.
    public init(host: HostFunction) {
        self.init(.host(host), name: host.name)
    }

    var isBuiltin: Bool {
        if case .lambda = kind { return false }
        return true
    }

    fileprivate var identity: ObjectIdentifier? {
        if case .lambda(let l) = kind { return ObjectIdentifier(l) }
        return nil
    }
}

/// An insertion-ordered dict with hashable ``Value`` keys.
public struct Dict: Sendable, Equatable {
    /// The keys, in insertion order.
    public private(set) var keys: [Value] = []
    /// The values, parallel to ``keys``.
    public private(set) var values: [Value] = []
    private var positions: [Value: Int] = [:]

    /// An empty dict.
    public init() {}

    /// The number of entries.
    public var count: Int { keys.count }

    /// The value for a key, if present.
    public subscript(key: Value) -> Value? {
        positions[key].map { values[$0] }
    }

    /// Inserts or replaces (keeping the first insertion position).
    public mutating func set(_ key: Value, _ value: Value) {
        if let i = positions[key] {
            values[i] = value
        } else {
            positions[key] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    /// Equal when both hold the same key/value pairs, whatever their order.
    public static func == (a: Dict, b: Dict) -> Bool {
        guard a.count == b.count else { return false }
        for (k, v) in zip(a.keys, a.values) {
            guard let w = b[k], w == v else { return false }
        }
        return true
    }
}

extension Value: Equatable, Hashable {
    /// Language equality: `1 == 1.0`, lists and tuples element-wise, host objects by identity.
    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.int(let x), .float(let y)): return Double(x) == y && Double(x).isFinite && Int64(exactly: y) == x
        case (.float(let x), .int(let y)): return Double(y) == x && Int64(exactly: x) == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)): return x == y
        case (.dict(let x), .dict(let y)): return x == y
        case (.object(let x), .object(let y)): return x === y
        case (.function(let x), .function(let y)):
            if let i = x.identity, let j = y.identity { return i == j }
            return x.name == y.name && x.identity == nil && y.identity == nil
        default: return false
        }
    }

    /// Consistent with ``==`` (integral floats hash like the integer).
    public func hash(into h: inout Hasher) {
        switch self {
        case .none: h.combine(0)
        case .bool(let b): h.combine(b)
        case .int(let i): h.combine(i)
        case .float(let d):
            if let i = Int64(exactly: d) { h.combine(i) } else { h.combine(d) }
        case .string(let s): h.combine(s)
        case .list(let a), .tuple(let a): h.combine(a)
        case .dict(let d): h.combine(d.count)
        case .function(let f): h.combine(f.name)
        case .object(let o): h.combine(ObjectIdentifier(o))
        }
    }
}

extension Value: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    /// An `int`.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A `float`.
    public init(floatLiteral value: Double) { self = .float(value) }
    /// A `string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A `bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A `list`.
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    /// `None`.
    public init(nilLiteral: ()) { self = .none }
}
