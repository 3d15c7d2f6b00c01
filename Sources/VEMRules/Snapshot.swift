import Foundation

/// A frozen, generic picture of the Manager's state, read from JSON (see docs/SNAPSHOT.md).
///
/// Used by `vem eval --snapshot` and `vem bench rules`; the Manager later plugs in its own
/// ``HostObject``s instead. Every object is a ``SnapshotObject`` whose attributes are its JSON
/// fields, plus, for entries with a `properties` object, each property as an attribute too.
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
    public init(clients: [SnapshotObject] = [], hosts: [SnapshotObject] = [], vms: [SnapshotObject] = [],
                groups: [SnapshotObject] = []) {
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
                var attributes: [String: Value] = [:]
                for (name, value) in fields { attributes[name] = value.value }
                if case .object(let props)? = fields["properties"] {
                    for (name, value) in props where attributes[name] == nil { attributes[name] = value.value }
                }
                out.append(SnapshotObject(typeName: type, attributes: attributes))
            }
            return out
        }
        self.init(clients: try objects("clients", "client"), hosts: try objects("hosts", "host"),
                  vms: try objects("vms", "vm"), groups: try objects("groups", "group"))
    }

    /// The `manager` object over this snapshot.
    public var manager: ManagerObject { ManagerObject(self) }
}

/// One client, host, VM or group of a snapshot: attributes from a precomputed dictionary.
public final class SnapshotObject: HostObject {
    /// `client`, `host`, `vm` or `group`.
    public let typeName: String
    /// Every attribute by name.
    public let attributes: [String: Value]
    /// The attribute names, sorted.
    public let attributeNames: [String]

    /// Creates an object.
    public init(typeName: String, attributes: [String: Value]) {
        self.typeName = typeName
        self.attributes = attributes
        self.attributeNames = attributes.keys.sorted()
    }

    /// The attribute's value, or nil.
    public func attribute(named name: String) -> Value? { attributes[name] }

    /// `<client h1>` (using the `name` attribute when there is one).
    public var repr: String {
        if case .string(let n)? = attributes["name"] { return "<\(typeName) \(n)>" }
        return "<\(typeName)>"
    }
}

/// The `manager` global over a snapshot: `clients`, `hosts`, `vms`, `groups` as lists.
public final class ManagerObject: HostObject {
    private let lists: [String: Value]

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
}
