import NIOSSL
import VEMBus
import VEMProtocol
import VEMTrust

/// Mutual TLS on the hub: the server's context (its certificate, the site CA, client certificates required),
/// the revoked certificates (live: the Manager adds a VM's credential when it destroys the VM, and a reload reads
/// `tls_revoked` again) and the site CA's subject. With it, a connection's certificate is its Client's identity
/// (``VEMBus/CertifiedPeer``): a `hello` that claims another name, role or group is refused.
public struct HubServerTLS: Sendable {
    /// The context (``VEMTrust/TLSContexts/server(_:)``).
    public var context: NIOSSLContext
    /// Certificates (serial numbers, lowercase hexadecimal) refused even though the site CA signed them.
    public var revocations: RevocationList
    /// The site CA's subject (distinguished name, as ``VEMTrust/CertificateIdentity/issuer`` spells it): a
    /// certificate issued by another CA below it (the Manager's issuing intermediate) may name a guest (`domU`)
    /// only. nil: not checked.
    public var siteCASubject: String?

    /// Creates the TLS settings.
    public init(
        context: NIOSSLContext, revokedSerials: Set<String> = [], revocations: RevocationList? = nil,
        siteCASubject: String? = nil
    ) {
        self.context = context
        self.revocations = revocations ?? RevocationList(serials: revokedSerials)
        if revocations != nil, !revokedSerials.isEmpty { self.revocations.replaceFileSerials(revokedSerials) }
        self.siteCASubject = siteCASubject
    }

    /// The serials revoked now.
    public var revokedSerials: Set<String> { revocations.serials }
}

/// Configuration of the embedded hub's Manager side (``HubServer``). Every default is written here.
///
/// ## Backpressure
/// Each connection's outbound bytes are bounded. NIO's write-buffer water marks (``lowWaterMark``,
/// ``highWaterMark``) flip the channel's writability; while it is not writable, every further byte written is
/// counted, and once the bytes buffered would pass ``outboundByteCap`` the connection is closed with reason
/// `slow consumer`. The Client's commands stay in its reliable stream (unacknowledged ones are resent when it
/// reconnects with the same incarnation), and regular messages it missed are not replayed (properties are
/// asked again). So a slow Client costs the Manager at most `outboundByteCap` bytes, never an unbounded queue.
///
/// ## Flooding
/// Inbound messages of each connection pass a token bucket (``inboundMessagesPerSecond``, ``inboundBurst``):
/// when it is empty the hub stops reading that socket until the bucket refills, so the flood stays in the
/// flooder's kernel buffers (TCP flow control) and the event loop keeps serving everyone else. NIO reads at
/// most ``maxMessagesPerRead`` times per socket per loop turn, so no socket monopolises a loop.
///
/// ## Before admission
/// A connection that has not been admitted yet costs little and cannot stay: its frames may be at most
/// ``maximumHelloFrameSize`` bytes, and it must be admitted within ``helloTimeout`` of connecting (a deadline,
/// not reset by the bytes it sends). At most ``maximumConnections`` connections are open at once, at most
/// ``maximumConnectionsPerAddress`` from one IP address; more are closed as soon as they are accepted. An address
/// whose `hello`s keep being refused (bad token, forbidden name or role) is refused outright for a time that
/// doubles with each further failure (``loginBackoff``), and forgiven by a successful login.
public struct HubConfiguration: Sendable {
    /// The address to listen on. Default `127.0.0.1`.
    public var host: String
    /// The TCP port; 0 picks a free one (read it back from ``HubServer/start()``). Default 7420.
    public var port: Int
    /// Admission, heartbeat interval (default 5 s), command-stream tuning, Manager incarnation.
    public var engine: ManagerEngine.Configuration
    /// The largest frame body accepted or sent. Default 1 MiB.
    public var maximumFrameSize: Int
    /// Writability returns below this many buffered outbound bytes. Default 32 KiB.
    public var lowWaterMark: Int
    /// Writability is lost above this many buffered outbound bytes. Default 64 KiB.
    public var highWaterMark: Int
    /// A connection whose buffered outbound bytes would pass this is closed (`slow consumer`). Default 2 MiB
    /// (at least ``highWaterMark``).
    public var outboundByteCap: Int
    /// Sustained inbound messages per second per connection. Default 50,000.
    public var inboundMessagesPerSecond: Int
    /// Inbound messages a connection may send at once above the rate. Default 5,000.
    public var inboundBurst: Int
    /// Socket reads per connection per event-loop turn. Default 4.
    public var maxMessagesPerRead: Int
    /// The listen backlog. Default 4,096.
    public var backlog: Int
    /// The kernel send buffer per connection (`SO_SNDBUF`), `nil` for the system default. Default `nil`.
    public var socketSendBufferSize: Int?
    /// A connection not admitted this long after it connected is closed. Default 10 s.
    public var helloTimeout: Duration
    /// The largest frame body accepted before admission (a `hello` is a few hundred bytes). Default 4 KiB.
    public var maximumHelloFrameSize: Int
    /// Connections open at once, admitted or not. Default 16,384 (`vem manager` lowers it below its descriptor
    /// limit).
    public var maximumConnections: Int
    /// Connections open at once from one IP address. Default 64.
    public var maximumConnectionsPerAddress: Int
    /// How long an address whose logins keep failing is refused.
    public var loginBackoff: LoginBackoff.Configuration
    /// Mutual TLS; nil: plain TCP (tokens only). Default nil. Setting it also requires certificates at admission
    /// (``VEMBus/Admission/requiresCertificate``).
    public var tls: HubServerTLS?

    /// Creates a configuration; see each property for its default.
    public init(
        host: String = "127.0.0.1", port: Int = 7420, engine: ManagerEngine.Configuration = .init(),
        maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize, lowWaterMark: Int = 32 * 1024,
        highWaterMark: Int = 64 * 1024, outboundByteCap: Int = 2 * 1024 * 1024,
        inboundMessagesPerSecond: Int = 50_000, inboundBurst: Int = 5_000, maxMessagesPerRead: Int = 4,
        backlog: Int = 4_096, socketSendBufferSize: Int? = nil, helloTimeout: Duration = .seconds(10),
        maximumHelloFrameSize: Int = 4_096, maximumConnections: Int = 16_384, maximumConnectionsPerAddress: Int = 64,
        loginBackoff: LoginBackoff.Configuration = .init(), tls: HubServerTLS? = nil
    ) {
        self.host = host
        self.port = port
        self.engine = engine
        self.maximumFrameSize = maximumFrameSize
        self.lowWaterMark = max(1, min(lowWaterMark, highWaterMark))
        self.highWaterMark = max(self.lowWaterMark + 1, highWaterMark)
        self.outboundByteCap = max(self.highWaterMark, outboundByteCap)
        self.inboundMessagesPerSecond = inboundMessagesPerSecond
        self.inboundBurst = inboundBurst
        self.maxMessagesPerRead = max(1, maxMessagesPerRead)
        self.backlog = backlog
        self.socketSendBufferSize = socketSendBufferSize
        self.helloTimeout = helloTimeout
        self.maximumHelloFrameSize = max(WireFormat.minimumBodySize, min(maximumHelloFrameSize, maximumFrameSize))
        self.maximumConnections = max(1, maximumConnections)
        self.maximumConnectionsPerAddress = max(1, maximumConnectionsPerAddress)
        self.loginBackoff = loginBackoff
        self.tls = tls
        if tls != nil { self.engine.admission.requiresCertificate = true }
    }
}

/// Configuration of the embedded hub's Client side (``HubClient``).
public struct HubClientConfiguration: Sendable {
    /// The Manager's host. Default `127.0.0.1`.
    public var host: String
    /// The Manager's port. Default 7420.
    public var port: Int
    /// Heartbeat interval until the Manager's `welcome` announces its own. Default 5 s.
    public var heartbeatInterval: Duration
    /// Reconnect delays (default 100 ms doubling to 10 s, 50 % jitter).
    public var backoff: Backoff.Configuration
    /// Connect timeout. Default 5 s.
    public var connectTimeout: Duration
    /// The largest frame body accepted or sent. Default 1 MiB.
    public var maximumFrameSize: Int
    /// Mutual TLS (``VEMTrust/TLSContexts/client(_:)``): the Manager's certificate must come from the site CA,
    /// name the address dialled, and carry the role `manager`, before the `hello` is sent. Default nil (plain TCP).
    public var tls: NIOSSLContext?

    /// Creates a configuration; see each property for its default.
    public init(
        host: String = "127.0.0.1", port: Int = 7420, heartbeatInterval: Duration = .seconds(5),
        backoff: Backoff.Configuration = .init(), connectTimeout: Duration = .seconds(5),
        maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize, tls: NIOSSLContext? = nil
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.heartbeatInterval = heartbeatInterval
        self.backoff = backoff
        self.connectTimeout = connectTimeout
        self.maximumFrameSize = maximumFrameSize
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : scaled + attoseconds / 1_000_000_000
    }
}
