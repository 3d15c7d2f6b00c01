/// Heartbeat bookkeeping for one connection, as a pure value fed the time (in nanoseconds of any monotonic clock).
///
/// Each side sends a heartbeat when it has written nothing for an interval, and gives up on the peer when it has
/// read nothing for 1.5 intervals. Checked every half interval, a silent peer is detected within 2 intervals.
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
    private var readSinceTick = false
    private var wroteSinceTick = false

    init(intervalNanoseconds: Int64, now: Int64) {
        self.intervalNanoseconds = max(1, intervalNanoseconds)
        lastRead = now
        lastWrite = now
    }

    /// How often to call ``tick(now:)``.
    var checkPeriodNanoseconds: Int64 { max(1, intervalNanoseconds / 2) }

    /// Something was read (cheap: no clock read on the hot path; the time is taken at the next tick).
    mutating func noteRead() { readSinceTick = true }
    /// Something was written.
    mutating func noteWrite() { wroteSinceTick = true }

    /// Called every ``checkPeriodNanoseconds``.
    mutating func tick(now: Int64) -> Action {
        if readSinceTick {
            lastRead = now
            readSinceTick = false
        }
        if wroteSinceTick {
            lastWrite = now
            wroteSinceTick = false
        }
        if now - lastRead >= intervalNanoseconds + intervalNanoseconds / 2 { return .timeout }
        if now - lastWrite >= intervalNanoseconds - checkPeriodNanoseconds / 2 {
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

    /// Takes one token; `false` when the bucket is empty.
    mutating func take(now: Int64) -> Bool {
        if now > last {
            tokens = min(capacity, tokens + Double(now - last) * ratePerSecond / 1e9)
            last = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Nanoseconds until the bucket holds half its capacity again (when to resume reading).
    var refillNanoseconds: Int64 {
        let missing = max(0, capacity / 2 - tokens)
        return Int64(missing / ratePerSecond * 1e9) + 1
    }
}
