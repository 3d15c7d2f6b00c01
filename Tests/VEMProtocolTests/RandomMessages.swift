import VEMCore
import VEMProtocol

/// A small, fast, seedable generator (SplitMix64): schedules and inputs are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random values of every wire type, biased towards edge cases.
enum RandomMessages {
    static let scalars: [String] = ["a", "z", "0", "_", " ", "é", "ß", "€", "漢", "🙂", "\u{0}", "\n", "\"", "ℤ"]

    static func uint64<R: RandomNumberGenerator>(_ rng: inout R) -> UInt64 {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: [0, 1, 127, 128, 16383, 16384, UInt64.max, UInt64.max - 1, 1 << 63].randomElement(using: &rng)!
        case 1, 2: UInt64.random(in: 0...300, using: &rng)
        case 3: UInt64.random(in: 0...UInt64(UInt32.max), using: &rng)
        default: rng.next()
        }
    }

    static func int64<R: RandomNumberGenerator>(_ rng: inout R) -> Int64 {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: [0, -1, 1, Int64.min, Int64.max, -64, 64].randomElement(using: &rng)!
        case 1: Int64.random(in: -300...300, using: &rng)
        default: Int64(bitPattern: rng.next())
        }
    }

    static func string<R: RandomNumberGenerator>(_ rng: inout R, maxLength: Int = 12) -> String {
        let length = Int.random(in: 0...maxLength, using: &rng)
        var s = ""
        for _ in 0..<length { s += scalars.randomElement(using: &rng)! }
        if Int.random(in: 0..<40, using: &rng) == 0 {  // occasionally long: multi-byte length varints
            s += String(repeating: "x", count: Int.random(in: 120...400, using: &rng))
        }
        return s
    }

    static func optionalString<R: RandomNumberGenerator>(_ rng: inout R) -> String? {
        Bool.random(using: &rng) ? string(&rng) : nil
    }

    static func double<R: RandomNumberGenerator>(_ rng: inout R) -> Double {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: [0.0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
            .randomElement(using: &rng)!
        case 1: Double(bitPattern: rng.next())
        default: Double.random(in: -1e9...1e9, using: &rng)
        }
    }

    static func value<R: RandomNumberGenerator>(_ rng: inout R, depth: Int = 0) -> WireValue {
        switch Int.random(in: 0..<(depth < 3 ? 7 : 5), using: &rng) {
        case 0: .null
        case 1: .bool(Bool.random(using: &rng))
        case 2: .int(int64(&rng))
        case 3: .float(double(&rng))
        case 4: .string(string(&rng))
        case 5: .array(list(&rng, max: 3) { value(&$0, depth: depth + 1) })
        default:
            .object(Dictionary(list(&rng, max: 3) { (string(&$0), value(&$0, depth: depth + 1)) }) { a, _ in a })
        }
    }

    static func list<T, R: RandomNumberGenerator>(_ rng: inout R, max: Int = 4, _ make: (inout R) -> T) -> [T] {
        (0..<Int.random(in: 0...max, using: &rng)).map { _ in make(&rng) }
    }

    static func named<R: RandomNumberGenerator>(_ rng: inout R) -> [NamedValue] {
        list(&rng) { NamedValue(string(&$0), value(&$0)) }
    }

    static func message<R: RandomNumberGenerator>(_ rng: inout R) -> Message {
        let type = MessageType.allCases.randomElement(using: &rng)!
        return message(of: type, &rng)
    }

    static func message<R: RandomNumberGenerator>(of type: MessageType, _ rng: inout R) -> Message {
        switch type {
        case .hello:
            return .hello(
                Hello(
                    name: string(&rng), role: ClientRole.allCases.randomElement(using: &rng)!, host: string(&rng),
                    group: optionalString(&rng), vmID: optionalString(&rng), version: string(&rng),
                    incarnation: uint64(&rng), token: string(&rng), lastExecutedSeq: uint64(&rng),
                    heldResults: list(&rng) { uint64(&$0) }))
        case .welcome:
            return .welcome(
                Welcome(
                    managerIncarnation: uint64(&rng), heartbeatIntervalMilliseconds: uint64(&rng),
                    resumed: Bool.random(using: &rng), commandBase: uint64(&rng),
                    resultsReceivedThrough: uint64(&rng), resultsReceivedAbove: list(&rng) { uint64(&$0) }))
        case .reject:
            return .reject(Reject(Reject.Reason.allCases.randomElement(using: &rng)!, detail: string(&rng)))
        case .heartbeat:
            return .heartbeat(Heartbeat(timestampMilliseconds: uint64(&rng)))
        case .getProperty:
            return .getProperty(GetProperty(requestID: uint64(&rng), names: list(&rng) { string(&$0) }))
        case .property:
            return .property(
                PropertyReport(
                    requestID: uint64(&rng),
                    readings: list(&rng) { r in
                        PropertyReading(
                            name: string(&r), timestampMilliseconds: uint64(&r),
                            outcome: Int.random(in: 0..<5, using: &r) == 0 ? .error(string(&r)) : .value(value(&r)))
                    }))
        case .command:
            return .command(Command(seq: uint64(&rng), name: string(&rng), arguments: named(&rng)))
        case .commandAck:
            return .commandAck(CommandAck(through: uint64(&rng)))
        case .commandResult:
            return .commandResult(
                CommandResult(
                    seq: uint64(&rng), status: CommandResult.Status.allCases.randomElement(using: &rng)!,
                    exitCode: Bool.random(using: &rng) ? Int32.random(in: .min ... .max, using: &rng) : nil,
                    output: string(&rng, maxLength: 40), outputTruncated: Bool.random(using: &rng),
                    error: optionalString(&rng), durationMicroseconds: uint64(&rng)))
        case .resultAck:
            return .resultAck(ResultAck(through: uint64(&rng), above: list(&rng) { uint64(&$0) }))
        case .event:
            return .event(Event(kind: string(&rng), timestampMilliseconds: uint64(&rng), attributes: named(&rng)))
        case .bye:
            return .bye(Bye(reason: string(&rng)))
        }
    }
}

extension Message {
    /// The frame bytes, for comparisons that must treat NaN as equal to itself.
    var frameBytes: [UInt8] { (try? encodedFrame(maximumFrameSize: .max)) ?? [] }
}

extension Message {
    /// `true` when a float value inside is NaN (so `==` cannot hold even for identical bytes).
    var containsNaN: Bool {
        func isNaN(_ v: WireValue) -> Bool {
            switch v {
            case .float(let d): d.isNaN
            case .array(let a): a.contains(where: isNaN)
            case .object(let o): o.values.contains(where: isNaN)
            default: false
            }
        }
        switch self {
        case .property(let p):
            return p.readings.contains { if case .value(let v) = $0.outcome { isNaN(v) } else { false } }
        case .command(let c): return c.arguments.contains { isNaN($0.value) }
        case .event(let e): return e.attributes.contains { isNaN($0.value) }
        default: return false
        }
    }
}
