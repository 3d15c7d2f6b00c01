import VEMProtocol
import VEMCore

/// Who a Client is, as announced in its `hello` and checked by the Manager: the membership payload of a `join`.
///
/// The token is deliberately not part of the identity: it never leaves the admission check.
public struct ClientIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The Client's unique name (`host07`, `atlas-vm-12`).
    public var name: String
    /// Real host, VM, or batch server node.
    public var role: ClientRole
    /// The real host the Client runs on.
    public var host: String
    /// The user group of a VM (`nil` for hosts and the batch node).
    public var group: String?
    /// The hypervisor's VM identifier (`nil` outside a VM).
    public var vmID: String?
    /// The Client's software version (`1.4.0`).
    public var version: String
    /// Chosen anew at every Client process start; a new value means the previous process is gone.
    public var incarnation: UInt64
    /// The IP address the Client's connection comes from, as the bus saw it (nil when the transport does not
    /// know one). Not announced by the Client: filled in by the Manager's side of the bus. The Manager gives it
    /// to the batch system as a new VM's node address.
    public var address: String?

    /// Creates an identity.
    public init(
        name: String, role: ClientRole, host: String, group: String? = nil, vmID: String? = nil,
        version: String, incarnation: UInt64, address: String? = nil
    ) {
        self.name = name
        self.role = role
        self.host = host
        self.group = group
        self.vmID = vmID
        self.version = version
        self.incarnation = incarnation
        self.address = address
    }

    /// The identity announced by a `hello` (its token and resume state are dropped).
    /// - Parameter hello: The Client's hello.
    public init(hello: Hello) {
        self.init(
            name: hello.name, role: hello.role, host: hello.host, group: hello.group, vmID: hello.vmID,
            version: hello.version, incarnation: hello.incarnation)
    }

    /// A `hello` for this identity with `token` (resume state is filled in by the command stream).
    /// - Parameter token: The credential to present.
    public func hello(token: String) -> Hello {
        Hello(
            name: name, role: role, host: host, group: group, vmID: vmID, version: version, incarnation: incarnation,
            token: token)
    }

    /// Two identities are equal when the Client says the same of itself: ``address`` (where the connection came
    /// from, not who the Client is) does not count.
    public static func == (lhs: ClientIdentity, rhs: ClientIdentity) -> Bool {
        lhs.name == rhs.name && lhs.role == rhs.role && lhs.host == rhs.host && lhs.group == rhs.group
            && lhs.vmID == rhs.vmID && lhs.version == rhs.version && lhs.incarnation == rhs.incarnation
    }

    /// Hashes what ``==`` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(role)
        hasher.combine(host)
        hasher.combine(group)
        hasher.combine(vmID)
        hasher.combine(version)
        hasher.combine(incarnation)
    }

    /// `name (role, incarnation N)`; no secrets.
    public var description: String { "\(name) (\(role), incarnation \(incarnation))" }
}
