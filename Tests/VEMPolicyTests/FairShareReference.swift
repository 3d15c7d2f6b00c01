@testable import VEMPolicy

/// Independent computations the water-filling is checked against.
enum FairShareReference {
    /// Every VM of every group as an event at its water level; events taken in (level, name) order, the
    /// `minVMs` events first; a group whose VM does not fit is done for the pass.
    static func byLevels(_ claims: [FairShare.Claim], cpus: Int, memory: Int) -> [Int] {
        var granted = Array(repeating: 0, count: claims.count)
        var room = (cpus: max(0, cpus), memory: max(0, memory))
        for caps in [claims.map { min($0.minVMs, $0.capVMs) }, claims.map(\.capVMs)] {
            var events: [(level: Double, name: String, index: Int)] = []
            for (i, c) in claims.enumerated() where granted[i] < caps[i] {
                for k in (granted[i] + 1)...caps[i] {
                    events.append(
                        (FairShare.level(of: c, count: k, capacityCPUs: cpus, capacityMemoryMiB: memory), c.name, i))
                }
            }
            events.sort { ($0.level, $0.name) < ($1.level, $1.name) }
            var stopped: Set<Int> = []
            for e in events where !stopped.contains(e.index) {
                let c = claims[e.index]
                if c.vmCPUs <= room.cpus && c.vmMemoryMiB <= room.memory {
                    room.cpus -= c.vmCPUs
                    room.memory -= c.vmMemoryMiB
                    granted[e.index] += 1
                } else {
                    stopped.insert(e.index)
                }
            }
        }
        return granted
    }

    /// All allocations of 1-vCPU VMs (no minimums) that are weighted max–min fair, by brute force over every
    /// vector: within caps and capacity; Pareto (a group below its cap only when the pool is full); and stable
    /// (no group's last VM sits above another open group's next VM: `n_j / s_j <= (n_i + 1) / s_i`).
    static func bruteForceFairAllocations(_ claims: [FairShare.Claim], cpus: Int) -> [[Int]] {
        var result: [[Int]] = []
        func visit(_ prefix: [Int]) {
            if prefix.count == claims.count {
                let total = prefix.reduce(0, +)
                guard total <= cpus else { return }
                for i in claims.indices where prefix[i] < claims[i].capVMs {
                    guard total == cpus else { return }
                    for j in claims.indices where prefix[j] > 0 && j != i {
                        guard Double(prefix[j]) / claims[j].share <= Double(prefix[i] + 1) / claims[i].share else {
                            return
                        }
                    }
                }
                result.append(prefix)
                return
            }
            for n in 0...max(0, claims[prefix.count].capVMs) { visit(prefix + [n]) }
        }
        visit([])
        return result
    }
}
