/// When a Client that cannot reach its Manager says so (a pure value; the transports hold one per connect loop):
/// at the first failed attempt, then at attempts 2, 4, 8, 16, 32 and every 32nd after — with the transports'
/// exponential back-off that is about one line a quarter of an hour once the back-off is at its longest —, and
/// once more when the Manager is reached again. Not silent for as long as the outage lasts, and no flood.
public struct ReachabilityLog: Sendable, Hashable {
    /// Failed attempts since the Manager was last reached.
    public private(set) var failures = 0

    /// A quiet log.
    public init() {}

    /// An attempt failed; returns whether to log it (with ``failures`` as its number).
    public mutating func failed() -> Bool {
        failures += 1
        return failures < 32 ? failures & (failures - 1) == 0 : failures % 32 == 0
    }

    /// The Manager was reached; returns how many attempts had failed before (to log), or nil when none had.
    public mutating func reached() -> Int? {
        defer { failures = 0 }
        return failures > 0 ? failures : nil
    }
}
