/// Failed logins by IP address, as a pure value fed the time (nanoseconds of any monotonic clock): an address
/// whose `hello`s keep being refused is refused outright for a while, twice as long after each further failure.
struct LoginBackoffTable: Sendable {
    struct Entry: Sendable {
        var failures: Int
        var lastFailure: Int64
        var blockedUntil: Int64
    }

    let configuration: LoginBackoff.Configuration
    private(set) var entries: [String: Entry] = [:]

    init(configuration: LoginBackoff.Configuration) {
        self.configuration = configuration
    }

    /// Whether a new connection from `address` is refused at `now`.
    func isBlocked(_ address: String, now: Int64) -> Bool {
        guard let entry = entries[address] else { return false }
        return entry.blockedUntil > now
    }

    /// A login from `address` was refused at `now`; returns how long the address is now refused (zero while it
    /// has failures to spare).
    @discardableResult
    mutating func failed(_ address: String, now: Int64) -> Duration {
        let forget = configuration.forgetAfter.nanoseconds
        var entry = entries[address] ?? Entry(failures: 0, lastFailure: now, blockedUntil: now)
        if now - entry.lastFailure > forget { entry = Entry(failures: 0, lastFailure: now, blockedUntil: now) }
        entry.failures += 1
        entry.lastFailure = now
        let beyond = entry.failures - configuration.freeFailures
        var delay: Int64 = 0
        if beyond > 0 {
            let initial = configuration.initialDelay.nanoseconds
            let maximum = configuration.maximumDelay.nanoseconds
            delay = initial
            for _ in 1..<beyond where delay < maximum { delay = min(maximum, delay * 2) }
            delay = min(maximum, delay)
            entry.blockedUntil = now + delay
        }
        entries[address] = entry
        if entries.count > configuration.maximumAddresses { prune(now: now) }
        return .nanoseconds(delay)
    }

    /// A login from `address` succeeded: its failures are forgiven.
    mutating func succeeded(_ address: String) { entries[address] = nil }

    /// Drops forgotten entries, then (still over the limit) the oldest half.
    private mutating func prune(now: Int64) {
        let forget = configuration.forgetAfter.nanoseconds
        entries = entries.filter { now - $0.value.lastFailure <= forget || $0.value.blockedUntil > now }
        guard entries.count > configuration.maximumAddresses else { return }
        let keep = entries.sorted { $0.value.lastFailure > $1.value.lastFailure }.prefix(configuration.maximumAddresses / 2)
        entries = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}

/// The back-off on failed logins of the hub (``HubConfiguration/loginBackoff``).
public enum LoginBackoff {
    /// How an address that keeps failing to log in is slowed down. Every default is written here.
    public struct Configuration: Sendable, Hashable {
        /// Refused logins an address may have before it is refused outright. Default 3.
        public var freeFailures: Int
        /// How long after the first failure past ``freeFailures``; doubled after each further one. Default 1 s.
        public var initialDelay: Duration
        /// The longest an address is refused. Default 60 s.
        public var maximumDelay: Duration
        /// Failures older than this are forgotten. Default 10 min.
        public var forgetAfter: Duration
        /// Addresses remembered at most (the oldest are forgotten first). Default 10,000.
        public var maximumAddresses: Int

        /// Creates a configuration; see each property for its default.
        public init(
            freeFailures: Int = 3, initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(60),
            forgetAfter: Duration = .seconds(600), maximumAddresses: Int = 10_000
        ) {
            self.freeFailures = max(0, freeFailures)
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
            self.forgetAfter = forgetAfter
            self.maximumAddresses = max(2, maximumAddresses)
        }
    }
}
