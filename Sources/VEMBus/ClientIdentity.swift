import VEMProtocol

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

    /// Creates an identity.
    public init(
        name: String, role: ClientRole, host: String, group: String? = nil, vmID: String? = nil,
        version: String, incarnation: UInt64
    ) {
        self.name = name
        self.role = role
        self.host = host
        self.group = group
        self.vmID = vmID
        self.version = version
        self.incarnation = incarnation
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

    /// `name (role, incarnation N)`; no secrets.
    public var description: String { "\(name) (\(role), incarnation \(incarnation))" }
}
