import Synchronization

/// Who may open a connection to the hub now: the caps on connections in total and per IP address, and the
/// back-off of addresses whose logins keep failing. A pure value fed the time; ``ConnectionGate`` shares it
/// between the event loops.
struct ConnectionLimits: Sendable {
    /// Why a new connection is closed at once.
    enum Refusal: Equatable, Sendable, CustomStringConvertible {
        case tooManyConnections(Int)
        case tooManyFromAddress(Int)
        case backingOff

        var description: String {
            switch self {
            case .tooManyConnections(let n): "too many connections (\(n))"
            case .tooManyFromAddress(let n): "too many connections from this address (\(n))"
            case .backingOff: "too many failed logins from this address: try again later"
            }
        }
    }

    let maximumConnections: Int
    let maximumPerAddress: Int
    private(set) var total = 0
    private(set) var perAddress: [String: Int] = [:]
    private(set) var logins: LoginBackoffTable

    init(maximumConnections: Int, maximumPerAddress: Int, backoff: LoginBackoff.Configuration) {
        self.maximumConnections = maximumConnections
        self.maximumPerAddress = maximumPerAddress
        logins = LoginBackoffTable(configuration: backoff)
    }

    /// A connection from `address` (nil: unknown) was accepted at `now`; `nil` lets it in (and counts it).
    mutating func open(_ address: String?, now: Int64) -> Refusal? {
        if total >= maximumConnections { return .tooManyConnections(maximumConnections) }
        if let address {
            if logins.isBlocked(address, now: now) { return .backingOff }
            if perAddress[address, default: 0] >= maximumPerAddress { return .tooManyFromAddress(maximumPerAddress) }
            perAddress[address, default: 0] += 1
        }
        total += 1
        return nil
    }

    /// A connection let in by ``open(_:now:)`` closed.
    mutating func close(_ address: String?) {
        total = max(0, total - 1)
        guard let address, let n = perAddress[address] else { return }
        perAddress[address] = n > 1 ? n - 1 : nil
    }

    /// A login from `address` was refused.
    mutating func loginFailed(_ address: String?, now: Int64) {
        if let address { logins.failed(address, now: now) }
    }

    /// A login from `address` succeeded.
    mutating func loginSucceeded(_ address: String?) {
        if let address { logins.succeeded(address) }
    }
}

/// ``ConnectionLimits`` behind a lock, shared by every connection of one hub.
final class ConnectionGate: Sendable {
    private let limits: Mutex<ConnectionLimits>
    private let lastWarning = Mutex<Int64?>(nil)

    init(configuration: HubConfiguration) {
        limits = Mutex(
            ConnectionLimits(
                maximumConnections: configuration.maximumConnections,
                maximumPerAddress: configuration.maximumConnectionsPerAddress, backoff: configuration.loginBackoff))
    }

    func open(_ address: String?, now: Int64) -> ConnectionLimits.Refusal? {
        limits.withLock { $0.open(address, now: now) }
    }

    func close(_ address: String?) { limits.withLock { $0.close(address) } }

    func loginFailed(_ address: String?, now: Int64) { limits.withLock { $0.loginFailed(address, now: now) } }

    func loginSucceeded(_ address: String?) { limits.withLock { $0.loginSucceeded(address) } }

    /// Whether to log a refused connection now: at most once every 10 s, so a flood does not flood the log.
    func shouldWarn(now: Int64) -> Bool {
        lastWarning.withLock { last in
            if let l = last, now - l < 10_000_000_000 { return false }
            last = now
            return true
        }
    }
}
