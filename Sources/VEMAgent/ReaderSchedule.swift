/// One property with its schedule: what to read and every how many seconds (`ticks`).
public struct ScheduledProperty: Hashable, Sendable, Codable {
    /// What to read.
    public var request: PropertyRequest
    /// Seconds between two collections (the paper's `ticks`); must be positive.
    public var ticks: Double

    /// The property's name.
    public var name: String { request.name }

    /// Creates a definition.
    public init(_ request: PropertyRequest, ticks: Double) {
        self.request = request
        self.ticks = ticks
    }
}

/// The Reader's schedule: which properties are due, fed the current time. A pure instance: no clock,
/// no I/O, deterministic for a given seed.
///
/// Property `p` with period `T = ticks` and jitter fraction `j` is collected at
/// `start + k·T + offset(p, k)` for `k = 0, 1, 2, …`, where `offset(p, k)` is drawn from `[0, j·T)` by a
/// hash of the seed, the property's name and `k`. So collections stay on a grid (no drift), each one
/// is late by less than `j·T`, two successive collections are between `(1−j)·T` and `(1+j)·T` apart,
/// and Clients (or properties) with different seeds (names) do not all fire together. The first
/// collection is at `start` plus its offset. A slot missed because the caller was late is skipped,
/// not caught up: a property is reported due at most once per call.
public struct ReaderSchedule: Sendable {
    private struct Entry: Sendable {
        var name: String
        var ticks: Double
        var salt: UInt64
        var slot: Int
        var due: Double
    }

    private var entries: [Entry]
    private let start: Double
    private let jitter: Double
    private let seed: UInt64

    /// Creates a schedule.
    /// - Parameters:
    ///   - definitions: The properties; names must be unique.
    ///   - start: The time of the schedule's origin (usually the Client's start).
    ///   - jitter: The fraction of `ticks` by which a collection may be late, clamped to `[0, 1)`.
    ///   - seed: Picks the offsets; use something per Client (a hash of its name) in production.
    /// - Throws: ``AgentError`` `.badParameters` when a `ticks` is not a positive finite number or a
    ///   name repeats.
    public init(definitions: [ScheduledProperty], start: Double, jitter: Double = 0.1, seed: UInt64 = 0) throws {
        self.start = start
        self.jitter = jitter.isFinite ? min(max(jitter, 0), 0.999) : 0
        self.seed = seed
        var seen = Set<String>()
        entries = []
        for d in definitions {
            guard d.ticks.isFinite, d.ticks > 0 else {
                throw AgentError(.badParameters, "property '\(d.name)': ticks must be a positive number of seconds")
            }
            guard seen.insert(d.name).inserted else {
                throw AgentError(.badParameters, "property '\(d.name)' is defined twice")
            }
            entries.append(Entry(name: d.name, ticks: d.ticks, salt: fnv1a(d.name), slot: 0, due: 0))
        }
        for i in entries.indices { entries[i].due = dueTime(entries[i], slot: 0) }
    }

    /// A seed derived from a Client's name, the same in every run, different between Clients.
    /// - Parameter clientName: The Client's name (`node07`, `atlas-vm-12`).
    public static func seed(forClient clientName: String) -> UInt64 { fnv1a(clientName) }

    /// The properties due at `now`, in definition order; each is then moved to its next slot after `now`.
    /// - Parameter now: The current time.
    public mutating func due(at now: Double) -> [String] {
        var names: [String] = []
        for i in entries.indices where entries[i].due <= now {
            names.append(entries[i].name)
            let e = entries[i]
            var slot = max(e.slot + 1, Int(((now - start) / e.ticks).rounded(.down)))
            while dueTime(e, slot: slot) <= now { slot += 1 }
            entries[i].slot = slot
            entries[i].due = dueTime(e, slot: slot)
        }
        return names
    }

    /// The earliest time at which some property is due, or nil when there are no properties.
    public var nextDue: Double? { entries.map(\.due).min() }

    /// The time at which a property is next due, if it is scheduled.
    public func nextDue(of name: String) -> Double? { entries.first { $0.name == name }?.due }

    /// The time of collection number `slot` (0-based) of a property, if it is scheduled.
    public func collectionTime(of name: String, slot: Int) -> Double? {
        entries.first { $0.name == name }.map { dueTime($0, slot: slot) }
    }

    private func dueTime(_ e: Entry, slot: Int) -> Double {
        start + Double(slot) * e.ticks + unitRandom(seed ^ e.salt, UInt64(truncatingIfNeeded: slot)) * jitter * e.ticks
    }
}

/// FNV-1a of a string's UTF-8 bytes: a hash that, unlike `hashValue`, is the same in every process.
func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
    }
    return h
}

/// A number in `[0, 1)` from a key and a counter (SplitMix64 finaliser).
func unitRandom(_ key: UInt64, _ counter: UInt64) -> Double {
    var z = key &+ (counter &+ 1) &* 0x9e37_79b9_7f4a_7c15
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    z ^= z >> 31
    return Double(z >> 11) / Double(UInt64(1) << 53)
}
