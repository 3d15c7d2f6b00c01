/// What a Client runs on (the paper's words): the one role type of the configuration (`role = dom0`), the wire
/// (its raw value is the `hello` message's byte), the Manager's state and journal, and the trigger language.
public enum ClientRole: UInt8, Hashable, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// A real host (Xen's Dom0, a KVM host): manages the VMs on it.
    case dom0 = 0
    /// A virtual machine built for a group.
    case domU = 1
    /// The batch system's server node: reads queues, drains nodes.
    case batch = 2

    /// `dom0`, `domU`, `batch`: the name in configuration files, JSON, the journal and triggers.
    public var name: String {
        switch self {
        case .dom0: "dom0"
        case .domU: "domU"
        case .batch: "batch"
        }
    }

    /// The role of that name (exactly as ``name`` spells it), or nil.
    public init?(name: String) {
        guard let role = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }

    /// The name.
    public var description: String { name }

    /// Decodes the name.
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let role = ClientRole(name: name) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown client role '\(name)'"))
        }
        self = role
    }

    /// Encodes the name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
