import VEMBus
import VEMProtocol

extension InMemoryBus {
    /// Deterministic faults injected into regular and command-stream messages (never into `hello`, `welcome`,
    /// `reject` or `bye`): with the same seed and the same sequence of sends, the same messages are dropped,
    /// delayed and duplicated.
    public struct Faults: Hashable, Sendable {
        /// The random seed.
        public var seed: UInt64
        /// Probability that a message is dropped (0…1).
        public var dropRate: Double
        /// Probability that a message is delivered twice (0…1).
        public var duplicateRate: Double
        /// Probability that a message is held back and delivered after up to ``maximumDelay`` later deliveries
        /// (so it overtakes nothing it was sent after, but later messages overtake it).
        public var delayRate: Double
        /// The longest delay, counted in deliveries. Default 8.
        public var maximumDelay: Int
        /// The message types faults apply to.
        public var types: Set<MessageType>

        /// No faults.
        public static let none = Faults(seed: 0)

        /// Creates a fault plan.
        public init(
            seed: UInt64, dropRate: Double = 0, duplicateRate: Double = 0, delayRate: Double = 0,
            maximumDelay: Int = 8,
            types: Set<MessageType> = [
                .getProperty, .property, .command, .commandAck, .commandResult, .resultAck, .event, .heartbeat,
            ]
        ) {
            self.seed = seed
            self.dropRate = dropRate
            self.duplicateRate = duplicateRate
            self.delayRate = delayRate
            self.maximumDelay = max(1, maximumDelay)
            self.types = types
        }

        var isActive: Bool { dropRate > 0 || duplicateRate > 0 || delayRate > 0 }
    }

    /// What happens to one message.
    enum Fate: Equatable {
        case deliver
        case drop
        case duplicate
        case delay(Int)
    }
}

/// SplitMix64: a tiny seeded generator, so fault schedules are reproducible.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
