import VEMCore

/// What a certificate of the site CA lets its holder be: one of the three Client roles, the Manager, or an
/// operator of the Manager's API. Written into the certificate as the SAN URI `vem:role/<name>`.
public enum TrustRole: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A real host's Client (may receive `vm.*` commands).
    case dom0
    /// A guest's Client (speaks only for itself).
    case domU
    /// The batch server's Client (its demand counts).
    case batch
    /// The Manager (what Clients check before they say hello).
    case manager
    /// An operator of the Manager's HTTP API.
    case `operator`

    /// The name in certificates and on the command line.
    public var description: String { rawValue }
}

/// Who a certificate of the site CA names: read from its subject's common name and its `vem:` SAN URIs.
public struct CertificateIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The holder's name (a Client's name on the bus, the Manager's or an operator's name).
    public var name: String
    /// What the holder may be.
    public var role: TrustRole
    /// The group a guest (or a group's operator) belongs to; nil for the others.
    public var group: String?
    /// The certificate's serial number in lowercase hexadecimal (what `vem ca revoke` lists).
    public var serial: String
    /// The distinguished name of the certificate's issuer (the site CA, or the Manager's issuing intermediate).
    public var issuer: String

    /// Creates an identity.
    public init(name: String, role: TrustRole, group: String? = nil, serial: String, issuer: String = "") {
        self.name = name
        self.role = role
        self.group = group
        self.serial = serial
        self.issuer = issuer
    }

    /// `name (role[, group G], serial S)`.
    public var description: String {
        "\(name) (\(role)\(group.map { ", group \($0)" } ?? ""), serial \(serial))"
    }

    /// The SAN URI prefix of the role.
    static let rolePrefix = "vem:role/"
    /// The SAN URI prefix of the group.
    static let groupPrefix = "vem:group/"
}

extension TrustRole {
    /// The certificate role of a Client role.
    public init(_ role: ClientRole) {
        switch role {
        case .dom0: self = .dom0
        case .domU: self = .domU
        case .batch: self = .batch
        }
    }
}
