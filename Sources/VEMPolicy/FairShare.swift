/// Weighted max–min fairness (water-filling) over one pool, counted in whole VMs.
///
/// Picture water poured over the groups: group *g*'s *k*-th VM is granted when the water level reaches
/// `k × size(g) / share(g)`, where `size(g)` is the VM's *dominant* fraction of the pool (the larger of its vCPU
/// and memory fractions, as in Dominant Resource Fairness). VMs are granted in order of that level (ties by
/// group name), skipping a VM that no longer fits in what is left of the pool, until every group reaches its
/// cap or nothing fits. With one VM size this is the D'Hondt (Jefferson) apportionment, which gives every group
/// at least `min(cap, floor(its share of the pool))` VMs; what a group leaves unused goes to the groups with
/// unmet demand, in proportion to their shares.
///
/// Two passes: first every group's `minVMs` (fairly, when even those do not fit), then demand, where a group's
/// cap is `min(max(demand, minVMs), maxVMs)`.
public enum FairShare {
    /// What one group asks for.
    public struct Claim: Sendable, Hashable {
        /// The group's name (the tie-break: earlier names first).
        public var name: String
        /// The share weight (> 0).
        public var share: Double
        /// vCPUs of one VM.
        public var vmCPUs: Int
        /// MiB of one VM.
        public var vmMemoryMiB: Int
        /// VMs kept even without demand.
        public var minVMs: Int
        /// VMs never exceeded (`nil`: no limit).
        public var maxVMs: Int?
        /// VMs the group could use now: busy VMs plus `ceil(pending CPUs / VM vCPUs)`.
        public var demandVMs: Int

        /// Creates a claim.
        public init(
            name: String, share: Double, vmCPUs: Int, vmMemoryMiB: Int, minVMs: Int = 0, maxVMs: Int? = nil,
            demandVMs: Int
        ) {
            self.name = name
            self.share = share
            self.vmCPUs = vmCPUs
            self.vmMemoryMiB = vmMemoryMiB
            self.minVMs = minVMs
            self.maxVMs = maxVMs
            self.demandVMs = demandVMs
        }

        /// The most VMs the group may get: `min(max(demand, minVMs), maxVMs)`.
        public var capVMs: Int { min(max(demandVMs, minVMs), maxVMs ?? Int.max) }
    }

    /// What one group gets, and the figures that explain it.
    public struct Allocation: Sendable, Hashable {
        /// The group's name.
        public var name: String
        /// The group's fraction of all share weights (0…1).
        public var shareFraction: Double
        /// VMs of the group that its share of the pool would hold: the guarantee passed to ``compute``, else
        /// `floor(fraction × pool / VM size)`.
        public var shareVMs: Int
        /// `min(cap, shareVMs)`: what the group is entitled to whatever the others do.
        public var guaranteedVMs: Int
        /// The cap used: `min(max(demand, minVMs), maxVMs)`.
        public var capVMs: Int
        /// VMs granted in the `minVMs` pass.
        public var minimumVMs: Int
        /// The group's target: VMs it should hold.
        public var targetVMs: Int
    }

    /// The water level at which `claim` receives its `count`-th VM (lower levels are served first).
    public static func level(of claim: Claim, count: Int, capacityCPUs: Int, capacityMemoryMiB: Int) -> Double {
        let cpuFraction = capacityCPUs > 0 ? Double(claim.vmCPUs) / Double(capacityCPUs) : .infinity
        let memoryFraction =
            claim.vmMemoryMiB == 0
            ? 0 : capacityMemoryMiB > 0 ? Double(claim.vmMemoryMiB) / Double(capacityMemoryMiB) : .infinity
        return Double(count) * max(cpuFraction, memoryFraction) / claim.share
    }

    /// Computes every group's target over a pool of `capacityCPUs` vCPUs and `capacityMemoryMiB` MiB.
    ///
    /// The result follows the order of `claims`. Targets never exceed a claim's cap, and their total size never
    /// exceeds the pool. Shares must be positive and sizes non-negative (the planner validates its snapshot).
    ///
    /// - Parameter guarantees: VMs each group is guaranteed (in the order of `claims`; `nil`: its D'Hondt floor):
    ///   after the minimums, every group first gets `min(cap, guarantee)`, then the water fills the rest. The
    ///   planner passes ``apportion(_:capacityCPUs:capacityMemoryMiB:)``, the static partitions' sizes, so a
    ///   group whose demand fits its partition gets it whole (D'Hondt alone can leave a small group one VM short
    ///   of its partition).
    public static func compute(
        _ claims: [Claim], capacityCPUs: Int, capacityMemoryMiB: Int, guarantees: [Int]? = nil
    ) -> [Allocation] {
        var granted = Array(repeating: 0, count: claims.count)
        var freeCPUs = max(0, capacityCPUs)
        var freeMemory = max(0, capacityMemoryMiB)
        let order = claims.indices.sorted { claims[$0].name < claims[$1].name }

        func pour(caps: [Int]) {
            var open = order.filter { granted[$0] < caps[$0] }
            while !open.isEmpty {
                // The open group whose next VM sits lowest; `open` is in name order, so ties go to the earlier name.
                var best = 0
                var bestLevel = Double.infinity
                for (position, index) in open.enumerated() {
                    let l = level(
                        of: claims[index], count: granted[index] + 1, capacityCPUs: capacityCPUs,
                        capacityMemoryMiB: capacityMemoryMiB)
                    if l < bestLevel || position == 0 {
                        best = position
                        bestLevel = l
                    }
                }
                let index = open[best]
                let claim = claims[index]
                // A claim without a size or a positive share takes nothing (the planner refuses such input).
                guard claim.vmCPUs >= 1, claim.vmMemoryMiB >= 0, claim.share > 0, claim.share.isFinite,
                    claim.vmCPUs <= freeCPUs, claim.vmMemoryMiB <= freeMemory
                else {
                    open.remove(at: best)  // what is left only shrinks: this VM will never fit
                    continue
                }
                freeCPUs -= claim.vmCPUs
                freeMemory -= claim.vmMemoryMiB
                granted[index] += 1
                if granted[index] >= caps[index] { open.remove(at: best) }
            }
        }

        pour(caps: claims.map { min($0.minVMs, $0.capVMs) })
        let minimums = granted
        if let guarantees, guarantees.count == claims.count {
            pour(caps: claims.indices.map { max(minimums[$0], min(claims[$0].capVMs, guarantees[$0])) })
        }
        pour(caps: claims.map(\.capVMs))

        let totalShare = claims.reduce(0.0) { $0 + ($1.share.isFinite && $1.share > 0 ? $1.share : 0) }
        return claims.indices.map { index in
            let claim = claims[index]
            let fraction = totalShare > 0 && claim.share.isFinite && claim.share > 0 ? claim.share / totalShare : 0
            let shareVMs =
                guarantees.flatMap { $0.count == claims.count ? $0[index] : nil }
                ?? entitledVMs(
                    fraction: fraction, claim: claim, capacityCPUs: capacityCPUs, capacityMemoryMiB: capacityMemoryMiB)
            return Allocation(
                name: claim.name, shareFraction: fraction, shareVMs: shareVMs,
                guaranteedVMs: min(claim.capVMs, shareVMs), capVMs: claim.capVMs, minimumVMs: minimums[index],
                targetVMs: granted[index])
        }
    }

    /// The pool apportioned among the groups by share in whole VMs, as static partitions would split it (the
    /// paper's fig. 1): every group gets `floor(share of the pool / VM size)` VMs (over vCPUs, and memory when
    /// `capacityMemoryMiB` is given); a group left with none gets one while room is left; then the VMs left go one
    /// each to the groups with the largest remainders (largest remainder, or Hamilton, apportionment), ties by
    /// name. The result follows the order of `claims`; demand, minimums and caps play no part.
    public static func apportion(_ claims: [Claim], capacityCPUs: Int, capacityMemoryMiB: Int? = nil) -> [Int] {
        let valid = claims.map { $0.share.isFinite && $0.share > 0 && $0.vmCPUs >= 1 && $0.vmMemoryMiB >= 0 }
        let totalShare = zip(claims, valid).reduce(0.0) { $0 + ($1.1 ? $1.0.share : 0) }
        guard totalShare > 0, capacityCPUs > 0 else { return claims.map { _ in 0 } }
        let memory = capacityMemoryMiB.map { max(0, $0) }
        var quotas = claims.indices.map { i -> Double in
            guard valid[i] else { return 0 }
            let fraction = claims[i].share / totalShare
            var q = fraction * Double(capacityCPUs) / Double(claims[i].vmCPUs)
            if let memory, claims[i].vmMemoryMiB > 0 {
                q = min(q, fraction * Double(memory) / Double(claims[i].vmMemoryMiB))
            }
            return q.isFinite ? min(q, Double(Int32.max)) : 0
        }
        quotas = quotas.map { max(0, $0) }
        var counts = quotas.map { Int(($0 + 1e-9).rounded(.down)) }
        var freeCPUs = capacityCPUs - zip(claims, counts).reduce(0) { $0 + $1.0.vmCPUs * $1.1 }
        var freeMemory = memory.map { m in m - zip(claims, counts).reduce(0) { $0 + $1.0.vmMemoryMiB * $1.1 } }
        func fits(_ i: Int) -> Bool {
            claims[i].vmCPUs <= freeCPUs && (freeMemory.map { claims[i].vmMemoryMiB <= $0 } ?? true)
        }
        func grant(_ i: Int) {
            counts[i] += 1
            freeCPUs -= claims[i].vmCPUs
            freeMemory = freeMemory.map { $0 - claims[i].vmMemoryMiB }
        }
        let byName = claims.indices.sorted { claims[$0].name < claims[$1].name }
        for i in byName where valid[i] && counts[i] == 0 && fits(i) { grant(i) }
        let byRemainder = byName.filter { valid[$0] }.sorted {
            let (a, b) = (quotas[$0] - Double(counts[$0]), quotas[$1] - Double(counts[$1]))
            return a != b ? a > b : claims[$0].name < claims[$1].name
        }
        for i in byRemainder where quotas[i] - Double(counts[i]) > 1e-9 && fits(i) { grant(i) }
        return counts
    }

    /// `floor(fraction × pool / VM size)`, over both vCPUs and memory.
    static func entitledVMs(fraction: Double, claim: Claim, capacityCPUs: Int, capacityMemoryMiB: Int) -> Int {
        guard claim.vmCPUs > 0 else { return 0 }
        // A small epsilon keeps exact quotients (0.3 × 10 / 1 = 2.9999…) from losing a VM to rounding.
        var vms = (fraction * Double(max(0, capacityCPUs)) / Double(claim.vmCPUs) + 1e-9).rounded(.down)
        if claim.vmMemoryMiB > 0 {
            vms = min(
                vms, (fraction * Double(max(0, capacityMemoryMiB)) / Double(claim.vmMemoryMiB) + 1e-9).rounded(.down))
        }
        guard vms.isFinite, vms > 0 else { return 0 }
        return Int(min(vms, Double(Int32.max)))
    }
}
