import VEMBus
import VEMProtocol

/// The Manager's side of the NATS bus: where the servers are, who it logs in as, the site's subjects.
public struct NATSBusConfiguration: Sendable {
    /// The Manager's connection (its user may publish and subscribe to `vem.<site>.>`).
    public var connection: NATSConnectionOptions
    /// The site name (the second subject token).
    public var site: String
    /// Admission, heartbeat interval (announced in `welcome`; the Manager's heartbeat on `vem.<site>.all`),
    /// command-stream tuning — the same engine as the hub.
    public var engine: ManagerEngine.Configuration
    /// A session silent for this long is disconnected. Default: 1.5 heartbeat intervals, checked every quarter
    /// interval, so a silent Client is declared gone within 2 intervals of its last message (as on the hub).
    public var livenessTimeout: Duration?
    /// A system-account user: with it the Manager follows `$SYS.ACCOUNT.<account>.CONNECT/DISCONNECT` and learns
    /// at once that a Client's connection closed. `nil`: heartbeats only.
    public var system: NATSConnectionOptions?
    /// The NATS account the Clients live in (for the `$SYS` subjects). Default `VEM`.
    public var account: String
    /// The largest frame body. Default 1 MiB (the server's `max_payload` must be larger).
    public var maximumFrameSize: Int

    /// Creates a configuration.
    public init(
        connection: NATSConnectionOptions, site: String, engine: ManagerEngine.Configuration = .init(),
        livenessTimeout: Duration? = nil, system: NATSConnectionOptions? = nil, account: String = "VEM",
        maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize
    ) {
        self.connection = connection
        self.site = site
        self.engine = engine
        self.livenessTimeout = livenessTimeout
        self.system = system
        self.account = account
        self.maximumFrameSize = maximumFrameSize
    }
}

/// A Client's side of the NATS bus.
public struct NATSClientConfiguration: Sendable {
    /// The Client's connection (its user may publish only to `vem.<site>.manager.<name>`); list every server of
    /// the cluster so that libnats can fail over.
    public var connection: NATSConnectionOptions
    /// The site name.
    public var site: String
    /// Heartbeat interval until the Manager's `welcome` announces its own. Default 5 s.
    public var heartbeatInterval: Duration
    /// A `hello` without `welcome` for this long is sent again on a new session. Default 2 s.
    public var helloTimeout: Duration
    /// The first connect is retried this often until it works. Default 200 ms.
    public var connectRetry: Duration
    /// The largest frame body. Default 1 MiB.
    public var maximumFrameSize: Int

    /// Creates a configuration.
    public init(
        connection: NATSConnectionOptions, site: String, heartbeatInterval: Duration = .seconds(5),
        helloTimeout: Duration = .seconds(2), connectRetry: Duration = .milliseconds(200),
        maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize
    ) {
        self.connection = connection
        self.site = site
        self.heartbeatInterval = heartbeatInterval
        self.helloTimeout = helloTimeout
        self.connectRetry = connectRetry
        self.maximumFrameSize = maximumFrameSize
    }
}
