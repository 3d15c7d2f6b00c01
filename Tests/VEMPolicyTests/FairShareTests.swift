import PropertyBased
import Testing

@testable import VEMPolicy

@Suite struct FairShareTests {
    typealias Claim = FairShare.Claim

    func targets(_ claims: [Claim], cpus: Int, memory: Int = 1 << 40) -> [String: Int] {
        Dictionary(
            uniqueKeysWithValues: FairShare.compute(claims, capacityCPUs: cpus, capacityMemoryMiB: memory)
                .map { ($0.name, $0.targetVMs) })
    }

    func claim(_ name: String, _ share: Double, demand: Int, cpus: Int = 1, min: Int = 0, max: Int? = nil) -> Claim {
        Claim(name: name, share: share, vmCPUs: cpus, vmMemoryMiB: 0, minVMs: min, maxVMs: max, demandVMs: demand)
    }

    @Test func saturatedGroupsSplitByShare() {
        let t = targets([claim("a", 1, demand: 100), claim("b", 1, demand: 100), claim("c", 2, demand: 100)], cpus: 40)
        #expect(t == ["a": 10, "b": 10, "c": 20])
    }

    @Test func unusedShareGoesToGroupsWithDemandByShare() {
        // c needs 4 of its 20: the 16 left go to a and b, 1:3.
        let t = targets([claim("a", 1, demand: 100), claim("b", 3, demand: 100), claim("c", 4, demand: 4)], cpus: 40)
        #expect(t == ["a": 9, "b": 27, "c": 4])
    }

    @Test func aLoneGroupWithDemandTakesTheWholePool() {
        let t = targets([claim("a", 1, demand: 100), claim("b", 1, demand: 0), claim("c", 1, demand: 0)], cpus: 30)
        #expect(t == ["a": 30, "b": 0, "c": 0])
    }

    @Test func minAndMaxAreRespected() {
        let t = targets(
            [claim("a", 1, demand: 100, max: 5), claim("b", 1, demand: 0, min: 2), claim("c", 1, demand: 100)],
            cpus: 30)
        #expect(t == ["a": 5, "b": 2, "c": 23])
    }

    @Test func minimumsThatDoNotFitAreSharedFairly() {
        let t = targets([claim("a", 1, demand: 0, min: 10), claim("b", 1, demand: 0, min: 10)], cpus: 8)
        #expect(t == ["a": 4, "b": 4])
    }

    @Test func vmSizesCountInCPUs() {
        // Equal shares of 32 vCPUs: a (8-vCPU VMs) gets 2 VMs, b (1-vCPU VMs) 16.
        let t = targets([claim("a", 1, demand: 100, cpus: 8), claim("b", 1, demand: 100)], cpus: 32)
        #expect(t == ["a": 2, "b": 16])
    }

    @Test func memoryIsTheDominantResourceWhenScarcer() {
        let a = Claim(name: "a", share: 1, vmCPUs: 1, vmMemoryMiB: 4096, demandVMs: 100)
        let b = Claim(name: "b", share: 1, vmCPUs: 1, vmMemoryMiB: 1024, demandVMs: 100)
        let result = FairShare.compute([a, b], capacityCPUs: 100, capacityMemoryMiB: 40960)
        // Dominant shares: a's VM is 10% of the memory, b's 2.5%; the water stops at 50% each: 5 and 20 VMs.
        #expect(result.map(\.targetVMs) == [5, 20])
        #expect(result.map(\.shareVMs) == [5, 20])
    }

    @Test func emptyPoolGivesNothing() {
        let t = targets([claim("a", 1, demand: 5, min: 2)], cpus: 0, memory: 0)
        #expect(t == ["a": 0])
    }

    @Test func degenerateClaimsTakeNothingAndDoNotTrap() {
        let claims = [
            Claim(name: "nan", share: .nan, vmCPUs: 1, vmMemoryMiB: 0, demandVMs: 5),
            Claim(name: "zero", share: 1, vmCPUs: 0, vmMemoryMiB: 0, demandVMs: .max),
            Claim(name: "ok", share: 1, vmCPUs: 1, vmMemoryMiB: 0, demandVMs: 5),
        ]
        let r = FairShare.compute(claims, capacityCPUs: .max, capacityMemoryMiB: .max)
        #expect(r.map(\.targetVMs) == [0, 0, 5])
        #expect(r[0].shareFraction == 0 && r[2].shareVMs > 0)
    }

    @Test func shareFiguresAreReported() {
        let r = FairShare.compute(
            [claim("atlas", 30, demand: 200), claim("cms", 70, demand: 3)], capacityCPUs: 100,
            capacityMemoryMiB: 1 << 30)
        #expect(r[0].shareVMs == 30 && r[0].guaranteedVMs == 30 && r[0].targetVMs == 97)
        #expect(r[1].shareVMs == 70 && r[1].guaranteedVMs == 3 && r[1].targetVMs == 3)
        #expect(r[0].capVMs == 200 && r[0].shareFraction == 0.3)
    }

    // MARK: - Properties

    /// Random claims over a random pool, one VM size (so the water-filling is exactly D'Hondt).
    static func uniformCase<R: RandomNumberGenerator>(_ rng: inout R) -> ([Claim], Int) {
        let size = Int.random(in: 1...4, using: &rng)
        let claims = (0..<Int.random(in: 1...5, using: &rng)).map { i in
            let min = Int.random(in: 0...3, using: &rng) == 0 ? Int.random(in: 0...4, using: &rng) : 0
            return Claim(
                name: "g\(i)", share: Double(Int.random(in: 1...10, using: &rng)), vmCPUs: size, vmMemoryMiB: 0,
                minVMs: min, maxVMs: Bool.random(using: &rng) ? nil : min + Int.random(in: 0...10, using: &rng),
                demandVMs: Int.random(in: 0...15, using: &rng))
        }
        return (claims, size * Int.random(in: 0...30, using: &rng))
    }

    @Test func everyGroupGetsAtLeastMinOfDemandAndItsShare() async {
        let cases = Generator<([Claim], Int), Shrink.None<([Claim], Int)>>(run: { Self.uniformCase(&$0) })
        await propertyCheck(count: 2_000, input: cases) { input in
            let (claims, cpus) = input
            let result = FairShare.compute(claims, capacityCPUs: cpus, capacityMemoryMiB: 0)
            let used = zip(claims, result).reduce(0) { $0 + $1.0.vmCPUs * $1.1.targetVMs }
            #expect(used <= cpus)
            let minimumsFit = claims.reduce(0) { $0 + $1.vmCPUs * min($1.minVMs, $1.capVMs) } <= cpus
            for (c, a) in zip(claims, result) {
                #expect(a.targetVMs <= c.capVMs)
                if minimumsFit {
                    #expect(a.targetVMs >= min(c.minVMs, c.capVMs))
                    // The guarantee of D'Hondt: minimums aside, at least min(cap, floor(share of pool)).
                    if claims.allSatisfy({ $0.minVMs == 0 }) { #expect(a.targetVMs >= a.guaranteedVMs, "\(claims)") }
                }
                // Pareto: a group below its cap stops only when its VM no longer fits.
                if a.targetVMs < c.capVMs { #expect(used + c.vmCPUs > cpus) }
            }
        }
    }

    @Test func matchesTheWaterLevelReferenceOnRandomPools() async {
        // Heterogeneous sizes and memory: the reference grants VM after VM in order of their water level.
        let cases = Generator<([Claim], Int, Int), Shrink.None<([Claim], Int, Int)>>(run: { rng in
            let claims = (0..<Int.random(in: 1...5, using: &rng)).map { i in
                let cpus = [1, 2, 4, 8].randomElement(using: &rng)!
                return Claim(
                    name: "g\(i)", share: Double(Int.random(in: 1...10, using: &rng)), vmCPUs: cpus,
                    vmMemoryMiB: cpus * [0, 1024, 4096].randomElement(using: &rng)!,
                    minVMs: Int.random(in: 0...2, using: &rng), maxVMs: Bool.random(using: &rng) ? nil : 6,
                    demandVMs: Int.random(in: 0...20, using: &rng))
            }
            return (
                claims.shuffled(using: &rng), Int.random(in: 0...64, using: &rng),
                Int.random(in: 0...131072, using: &rng)
            )
        })
        await propertyCheck(count: 2_000, input: cases) { input in
            let (claims, cpus, memory) = input
            let got = FairShare.compute(claims, capacityCPUs: cpus, capacityMemoryMiB: memory).map(\.targetVMs)
            #expect(
                got == FairShareReference.byLevels(claims, cpus: cpus, memory: memory), "\(claims) \(cpus) \(memory)")
        }
    }

    @Test func matchesBruteForceOnSmallUniformPools() {
        var rng = SplitMix64(seed: 0xFA1)
        for _ in 0..<400 {
            let claims = (0..<Int.random(in: 1...3, using: &rng)).map { i in
                Claim(
                    name: "g\(i)", share: Double(Int.random(in: 1...5, using: &rng)), vmCPUs: 1, vmMemoryMiB: 0,
                    maxVMs: Bool.random(using: &rng) ? nil : Int.random(in: 0...5, using: &rng),
                    demandVMs: Int.random(in: 0...7, using: &rng))
            }
            let cpus = Int.random(in: 0...10, using: &rng)
            let got = FairShare.compute(claims, capacityCPUs: cpus, capacityMemoryMiB: 0).map(\.targetVMs)
            let fair = FairShareReference.bruteForceFairAllocations(claims, cpus: cpus)
            #expect(fair.contains(got), "\(claims) over \(cpus): got \(got), fair \(fair)")
        }
    }
}
