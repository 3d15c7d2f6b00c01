/// The subject scheme of one site on NATS. With prefix `vem.<site>`:
///
/// | subject | publisher | subscriber | carries |
/// |---|---|---|---|
/// | `vem.<site>.manager.<client>` | that Client only | the Manager (`vem.<site>.manager.*`) | everything a Client sends |
/// | `vem.<site>.client.<client>` | the Manager | that Client only | commands, replies, one-Client messages |
/// | `vem.<site>.group.<group>` | the Manager | the Clients of the group | group messages |
/// | `vem.<site>.all` | the Manager | every Client | broadcasts, property rounds, Manager heartbeats |
///
/// The Client's name is the last token of the subject it publishes to, and the server's permissions allow each
/// Client user only its own subject: the Manager demultiplexes by subject, and a Client cannot speak for another.
/// Every payload is a ``NATSEnvelope`` (session id, then frames).
public struct NATSSubjects: Hashable, Sendable {
    /// The prefix every subject starts with (`vem.site1`).
    public let prefix: String

    /// The scheme of a site.
    /// - Parameter site: The site's name (one subject token: no `.`, `*`, `>` or white space).
    /// - Throws: ``NATSError/Code/invalidSubjectToken``.
    public init(site: String) throws(NATSError) {
        try Self.validate(token: site, what: "site name")
        prefix = "vem.\(site)"
    }

    /// Where Client `name` publishes.
    public func manager(_ name: String) -> String { "\(prefix).manager.\(name)" }
    /// What the Manager subscribes to.
    public var managerWildcard: String { "\(prefix).manager.*" }
    /// Client `name`'s own subject.
    public func client(_ name: String) -> String { "\(prefix).client.\(name)" }
    /// A group's subject.
    public func group(_ group: String) -> String { "\(prefix).group.\(group)" }
    /// The broadcast subject.
    public var all: String { "\(prefix).all" }
    /// Every subject of the site (the Manager's permission).
    public var everything: String { "\(prefix).>" }

    /// The Client name of a subject the Manager received on (`nil` if it is not `<prefix>.manager.<name>`).
    public func clientName(fromManagerSubject subject: String) -> String? {
        let head = "\(prefix).manager."
        guard subject.hasPrefix(head) else { return nil }
        let name = subject.dropFirst(head.count)
        return name.isEmpty ? nil : String(name)
    }

    /// Checks that `token` can be one subject token.
    /// - Throws: ``NATSError/Code/invalidSubjectToken`` naming `what`.
    public static func validate(token: String, what: String) throws(NATSError) {
        guard !token.isEmpty, token.utf8.count <= 255 else {
            throw NATSError(.invalidSubjectToken, "\(what) must be 1 to 255 bytes")
        }
        for byte in token.utf8 where byte == UInt8(ascii: ".") || byte == UInt8(ascii: "*") || byte == UInt8(ascii: ">")
            || byte <= 0x20 || byte == 0x7F
        {
            throw NATSError(
                .invalidSubjectToken,
                "\(what) '\(token)' cannot be a NATS subject token (no '.', '*', '>', spaces or control characters)")
        }
    }
}
