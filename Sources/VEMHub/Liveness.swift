/// Heartbeat bookkeeping for one connection, as a pure value fed the time (in nanoseconds of any monotonic clock).
///
/// Each side sends a heartbeat when it has written nothing for half an interval, and gives up on the peer when it
/// has read nothing for 1.5 intervals. Checked every quarter of an interval, a silent peer is declared gone within
/// 1.75 intervals of its last frame: the promise is 2 intervals, and the last quarter is left for the event loop's
/// scheduling. A live peer's heartbeats are at most 0.75 intervals apart, half an interval inside the timeout.
struct Liveness: Sendable {
    /// What the connection must do now.
    enum Action: Equatable {
        case none
        case sendHeartbeat
        case timeout
    }

    var intervalNanoseconds: Int64
    private(set) var lastRead: Int64
    private(set) var lastWrite: Int64

    init(intervalNanoseconds: Int64, now: Int64) {
        self.intervalNanoseconds = max(1, intervalNanoseconds)
        lastRead = now
        lastWrite = now
    }

    /// How often to call ``tick(now:)``: a quarter of an interval.
    var checkPeriodNanoseconds: Int64 { max(1, intervalNanoseconds / 4) }

    /// The longest a silent peer goes undetected: the timeout plus one check period (1.75 intervals).
    var detectionBoundNanoseconds: Int64 { intervalNanoseconds + intervalNanoseconds / 2 + checkPeriodNanoseconds }

    /// Something was read at `now`.
    mutating func didRead(now: Int64) { lastRead = now }
    /// Something was written at `now`.
    mutating func didWrite(now: Int64) { lastWrite = now }

    /// Called every ``checkPeriodNanoseconds``. An idle side sends a heartbeat once half an interval has passed
    /// since its last write, so heartbeats are never more than 0.75 intervals apart (checks are a quarter of an
    /// interval apart), well inside the peer's 1.5-interval timeout.
    mutating func tick(now: Int64) -> Action {
        if now - lastRead >= intervalNanoseconds + intervalNanoseconds / 2 { return .timeout }
        if now - lastWrite >= intervalNanoseconds / 2 {
            lastWrite = now
            return .sendHeartbeat
        }
        return .none
    }
}

/// A token bucket for inbound messages on one connection: a pure value fed the time.
struct TokenBucket: Sendable {
    let ratePerSecond: Double
    let capacity: Double
    private(set) var tokens: Double
    private var last: Int64

    init(ratePerSecond: Int, burst: Int, now: Int64) {
        self.ratePerSecond = Double(max(1, ratePerSecond))
        capacity = Double(max(1, burst))
        tokens = capacity
        last = now
    }

    /// Takes one token; `false` when the bucket is in debt. Messages already read are still handled (a read
    /// holds at most one receive buffer), so the bucket may go negative; the pause then lasts until the debt is
    /// paid, which keeps the sustained rate at ``ratePerSecond``.
    mutating func take(now: Int64) -> Bool {
        if now > last {
            tokens = min(capacity, tokens + Double(now - last) * ratePerSecond / 1e9)
            last = now
        }
        tokens -= 1
        return tokens >= 0
    }

    /// Nanoseconds until the bucket holds half its capacity again, debt included (when to resume reading).
    var refillNanoseconds: Int64 {
        let missing = max(0, capacity / 2 - tokens)
        return Int64(missing / ratePerSecond * 1e9) + 1
    }
}
