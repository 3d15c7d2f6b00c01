/// The chaos test's plan, made from a seed alone (so a failing run can be replayed with `VEM_CHAOS_SEED`): when
/// each fault strikes, what it kills and how long the component stays down, and when each job arrives.
///
/// Faults of different components may overlap (the Manager down while a host crashes); one component is never
/// hit again before it is back. Which guest a guest fault hits is decided when it strikes (the `pick`-th of the
/// guests running then, by name), since the guests depend on the Manager's choices.
struct FaultSchedule: Sendable, CustomStringConvertible {
    /// What a fault kills with SIGKILL.
    enum Kind: String, Sendable, CaseIterable {
        /// The `vem manager` process; restarted on the same journal and ports.
        case manager
        /// A Dom0 Client and its `test:///` host (a host crash: its domains and guests are gone); restarted empty.
        case dom0
        /// slurmctld; restarted on the same state directory.
        case slurmctld
        /// A guest's DomU Client (`vem agent`); restarted in the guest.
        case guestClient = "guest-client"
        /// A guest's slurmd; restarted in the guest.
        case slurmd
    }

    struct Fault: Sendable {
        /// Seconds after the schedule starts.
        var at: Double
        var kind: Kind
        /// Which host (dom0) or which running guest (guest faults), modulo their number.
        var pick: Int
        /// Seconds the component stays down before it is started again.
        var down: Double
    }

    struct Job: Sendable {
        /// Seconds after the schedule starts.
        var at: Double
        /// Index into the site's groups.
        var group: Int
        /// How long it sleeps.
        var seconds: Int
    }

    let seed: UInt64
    let faults: [Fault]
    let jobs: [Job]

    /// How many faults of each kind a run has (24 in all).
    static let counts: [Kind: Int] = [.manager: 4, .dom0: 4, .slurmctld: 4, .guestClient: 6, .slurmd: 6]

    /// The schedule of `seed`: the faults in a shuffled order from `firstFault` seconds on, 0.8 to 2.2 s apart,
    /// each down 0.5 to 2.5 s; jobs of 2 to 5 s for either group every 0.7 to 1.5 s from 0 until the last fault.
    init(seed: UInt64, firstFault: Double = 8, groups: Int = 2) {
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        var kinds = Kind.allCases.flatMap { Array(repeating: $0, count: Self.counts[$0] ?? 0) }
        for i in stride(from: kinds.count - 1, to: 0, by: -1) {
            kinds.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        var faults: [Fault] = []
        var backAt: [Kind: Double] = [:]
        var t = firstFault
        for kind in kinds {
            t = max(t, (backAt[kind] ?? 0) + 0.5)
            let down = rng.uniform(0.5, 2.5)
            faults.append(Fault(at: Self.round(t), kind: kind, pick: Int(rng.next() % 64), down: Self.round(down)))
            backAt[kind] = t + down
            t += rng.uniform(0.8, 2.2)
        }
        let end = (faults.map { $0.at + $0.down }.max() ?? 0)
        var jobs: [Job] = []
        var j = 0.0
        while j < end {
            jobs.append(Job(at: Self.round(j), group: Int(rng.next() % UInt64(groups)), seconds: 2 + Int(rng.next() % 4)))
            j += rng.uniform(0.7, 1.5)
        }
        self.faults = faults
        self.jobs = jobs
    }

    /// When the last fault's component is back.
    var end: Double { faults.map { $0.at + $0.down }.max() ?? 0 }

    var description: String {
        var lines = ["chaos: seed \(seed) (replay: VEM_CHAOS_SEED=\(seed)); \(faults.count) faults, \(jobs.count) jobs"]
        for (i, f) in faults.enumerated() {
            lines.append("chaos: fault \(i + 1): t=\(f.at)s kill -9 \(f.kind.rawValue) (pick \(f.pick)), down \(f.down)s")
        }
        lines.append("chaos: jobs: " + jobs.map { "t=\($0.at)s g\($0.group) \($0.seconds)s" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    private static func round(_ x: Double) -> Double { (x * 10).rounded() / 10 }
}

/// SplitMix64: a small, fully specified generator, the same on every platform and Swift version.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `low..<high`.
    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(next() >> 11) / Double(1 << 53)
    }
}
