import Foundation
import Synchronization
import VEMCore

/// A frozen picture of the Manager's state (see docs/SNAPSHOT.md): the `manager` object of every trigger.
///
/// One object model serves the running Manager (its `WorldView` builds a snapshot from its state for each pass),
/// `vem eval --snapshot` and `vem bench rules` (which read the same document from a file), so an expression gives
/// the same answer in all of them. Every object is a ``SnapshotObject``: its fields are attributes; a client's
/// properties are attributes too, with `properties`, `ages` and `age("name")`.
public struct Snapshot: Sendable {
    /// `manager.clients`.
    public var clients: [SnapshotObject]
    /// `manager.hosts`.
    public var hosts: [SnapshotObject]
    /// `manager.vms`.
    public var vms: [SnapshotObject]
    /// `manager.groups`.
    public var groups: [SnapshotObject]

    /// A snapshot from objects (an empty one by default).
    public init(
        clients: [SnapshotObject] = [], hosts: [SnapshotObject] = [], vms: [SnapshotObject] = [],
        groups: [SnapshotObject] = []
    ) {
        self.clients = clients
        self.hosts = hosts
        self.vms = vms
        self.groups = groups
    }

    /// Parses the JSON document `{"clients": […], "hosts": […], "vms": […], "groups": […]}` (each key optional).
    /// - Throws: ``RuleError`` with code ``RuleError/Code/value`` for malformed JSON or an unexpected shape.
    public init(json data: Data) throws(RuleError) {
        let root: JSON
        do {
            root = try JSONDecoder().decode(JSON.self, from: data)
        } catch {
            throw RuleError(.value, "snapshot is not valid JSON: \(error)")
        }
        try self.init(document: root)
    }

    /// The snapshot of a document already decoded (what the Manager's `vem snapshot` writes).
    /// - Throws: ``RuleError`` with code ``RuleError/Code/value`` for an unexpected shape.
    public init(document root: JSON) throws(RuleError) {
        guard case .object(let top) = root else { throw RuleError(.value, "snapshot must be a JSON object") }
        if let unknown = top.keys.sorted().first(where: { !["clients", "hosts", "vms", "groups"].contains($0) }) {
            throw RuleError(.value, "snapshot: unknown key '\(unknown)' (expected clients, hosts, vms, groups)")
        }
        func objects(_ key: String, _ type: String) throws(RuleError) -> [SnapshotObject] {
            guard let v = top[key] else { return [] }
            guard case .array(let items) = v else { throw RuleError(.value, "snapshot: '\(key)' must be an array") }
            var out: [SnapshotObject] = []
            for (i, item) in items.enumerated() {
                guard case .object(let fields) = item else {
                    throw RuleError(.value, "snapshot: \(key)[\(i)] must be an object")
                }
                out.append(SnapshotObject(entry: fields, typeName: type))
            }
            return out
        }
        self.init(
            clients: try objects("clients", "client"), hosts: try objects("hosts", "host"),
            vms: try objects("vms", "vm"), groups: try objects("groups", "group"))
    }

    /// The `manager` object over this snapshot.
    public var manager: ManagerObject { ManagerObject(self) }
}

/// One client, host, VM or group of a snapshot.
///
/// Its attributes are its fields; an entry with properties (every client) also has each property as an
/// attribute (a field wins over a property of the same name), `properties` (a dict of the values, `None` for a
/// property whose last reading failed), `ages` (a dict of seconds since each was received) and `age("name")`
/// (seconds, `None` when never read). Values are converted to the trigger language when first read, not for
/// every object of every pass: a pass that looks at `c.role` does not convert a batch Client's whole demand.
public final class SnapshotObject: HostObject {
    /// `client`, `host`, `vm` or `group`.
    public let typeName: String
    /// The attribute names, sorted (derived when asked: only hints and `dir()` need them).
    public var attributeNames: [String] {
        var names = Set(fields.keys).union(converted.withLock { Array($0.keys) })
        if let properties {
            names.formUnion(properties.keys)
            names.formUnion(Self.propertyAttributes)
        }
        return names.sorted()
    }
    /// `<client h1>` (using the `name` attribute when there is one).
    public var repr: String {
        if case .string(let n)? = attribute(named: "name") { "<\(typeName) \(n)>" } else { "<\(typeName)>" }
    }
    private let fields: [String: JSON]
    private let properties: [String: JSON]?
    private let ages: [String: Double]
    private let converted: Mutex<[String: Value]>
    /// What an entry with properties has besides its fields and properties.
    public static let propertyAttributes: Set<String> = ["properties", "ages", "age"]

    /// An object whose attributes are given as language values (tests, `vem bench rules`).
    public init(typeName: String, attributes: [String: Value]) {
        self.typeName = typeName
        fields = [:]
        properties = nil
        ages = [:]
        converted = Mutex(attributes)
    }

    /// An object from its fields and, for a client, its property values and their ages (seconds).
    public init(typeName: String, fields: [String: JSON], properties: [String: JSON]?, ages: [String: Double] = [:]) {
        self.typeName = typeName
        self.fields = fields
        self.properties = properties
        self.ages = ages
        converted = Mutex([:])
    }

    /// An entry of a snapshot document: a client's (or any entry's) `properties` and `ages` objects become its
    /// properties and their ages.
    public convenience init(entry: [String: JSON], typeName: String) {
        var fields = entry
        let properties: [String: JSON]?
        switch fields.removeValue(forKey: "properties") {
        case .object(let p)?: properties = p
        case let other?:
            fields["properties"] = other  // not an object: an ordinary field
            properties = typeName == "client" ? [:] : nil
        case nil: properties = typeName == "client" ? [:] : nil
        }
        var ages: [String: Double] = [:]
        if properties != nil, case .object(let a)? = fields["ages"] {
            fields["ages"] = nil
            for (name, age) in a {
                switch age {
                case .int(let i): ages[name] = Double(i)
                case .float(let d): ages[name] = d
                default: break
                }
            }
        }
        self.init(typeName: typeName, fields: fields, properties: properties, ages: ages)
    }

    /// The attribute's value, or nil.
    public func attribute(named name: String) -> Value? {
        if let value = converted.withLock({ $0[name] }) { return value }
        let value: Value
        switch (name, properties) {
        case ("properties", let properties?): value = JSON.object(properties).value
        case ("ages", .some): value = JSON.object(ages.mapValues(JSON.float)).value
        case ("age", .some):
            let ages = ages
            value = .hostFunction("age") { positional, keyword in
                guard positional.count == 1, keyword.isEmpty, case .string(let name) = positional[0] else {
                    throw RuleError(.type, "age() takes one property name (a string)")
                }
                return ages[name].map(Value.float) ?? .none
            }
        default:
            guard let json = fields[name] ?? properties?[name] else { return nil }
            value = json.value
        }
        converted.withLock { $0[name] = value }
        return value
    }
}

/// The `manager` global over a snapshot: `clients`, `hosts`, `vms`, `groups` as lists.
///
/// Its lists are also read column-wise (``ColumnarHostObject``): a column, built at its first use, is kept for
/// the object's life, so the triggers of a pass that read the same attribute of every client read it once.
public final class ManagerObject: ColumnarHostObject {
    private let lists: [String: Value]
    private let columns = ColumnCache()

    /// Wraps a snapshot; the lists are built once here, not at each access.
    public init(_ snapshot: Snapshot) {
        lists = [
            "clients": .list(snapshot.clients.map { .object($0) }),
            "hosts": .list(snapshot.hosts.map { .object($0) }),
            "vms": .list(snapshot.vms.map { .object($0) }),
            "groups": .list(snapshot.groups.map { .object($0) }),
        ]
    }

    /// `manager`.
    public var typeName: String { "manager" }
    /// `clients`, `groups`, `hosts`, `vms`.
    public var attributeNames: [String] { lists.keys.sorted() }
    /// The list, or nil.
    public func attribute(named name: String) -> Value? { lists[name] }

    /// The column of `attribute` over `manager.<list>`, or nil when there is no such list.
    public func column(_ attribute: String, of list: String) -> Column? {
        guard case .list(let elements)? = lists[list] else { return nil }
        return columns.column(attribute, of: list) { elements }
    }

    /// The length of `manager.<list>`, or nil when there is no such list.
    public func count(of list: String) -> Int? {
        guard case .list(let elements)? = lists[list] else { return nil }
        return elements.count
    }
}
