/// Exponential backoff with jitter for reconnects, as a pure value (the random source is passed in).
///
/// The n-th delay (from 0) is `min(maximum, initial × multiplier^n)`, then reduced by a random fraction up to
/// ``Configuration/jitter`` — so many Clients cut off together do not come back together.
public struct Backoff: Sendable {
    /// Tuning.
    public struct Configuration: Hashable, Sendable {
        /// The first delay. Default 100 ms.
        public var initial: Duration
        /// The longest delay. Default 10 s.
        public var maximum: Duration
        /// Growth per attempt. Default 2.
        public var multiplier: Double
        /// The largest fraction removed at random (0: none, 1: "full jitter"). Default 0.5.
        public var jitter: Double

        /// Creates a configuration.
        public init(
            initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10), multiplier: Double = 2,
            jitter: Double = 0.5
        ) {
            self.initial = initial
            self.maximum = maximum
            self.multiplier = max(1, multiplier)
            self.jitter = min(1, max(0, jitter))
        }
    }

    /// The tuning.
    public let configuration: Configuration
    /// Failed attempts since the last ``reset()``.
    public private(set) var attempts = 0

    /// Creates a backoff.
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// The delay before the next attempt (and counts the attempt).
    /// - Parameter random: The random source.
    public mutating func nextDelay(using random: inout some RandomNumberGenerator) -> Duration {
        let initial = Self.seconds(configuration.initial)
        let maximum = Self.seconds(configuration.maximum)
        let exponent = Double(min(attempts, 64))
        let base = min(maximum, initial * pow(configuration.multiplier, exponent))
        attempts += 1
        let cut = configuration.jitter * Double.random(in: 0...1, using: &random)
        return .nanoseconds(Int64(base * (1 - cut) * 1e9))
    }

    /// Starts over (after a successful connection).
    public mutating func reset() { attempts = 0 }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var i = 0.0
        while i < exponent && result < 1e12 {
            result *= base
            i += 1
        }
        return result
    }
}
