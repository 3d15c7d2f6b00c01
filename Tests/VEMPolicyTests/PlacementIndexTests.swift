import Testing

@testable import VEMPolicy

/// `createForDeficits` places on an array of the accepting hosts' room (``Planner/Step/hostRooms()``) instead of
/// looking up `free` and `bootingOnHost` by name for every host and every VM: it must decide exactly what the
/// look-ups decided. The reference below is the placement as it was, on the dictionaries.
@Suite struct PlacementIndexTests {
    /// The creates as they were decided before: each VM on the host `choose` picks among `hosts` (name order)
    /// with room in `free` and a booting slot in `bootingOnHost`.
    static func referenceCreateForDeficits(_ step: inout Planner.Step) {
        func place(_ need: Planner.Size) -> String? {
            let candidates = step.hosts.compactMap { host -> (String, Planner.Size)? in
                guard let room = step.free[host.name], need.fits(in: room),
                    step.bootingOnHost[host.name, default: 0] < step.configuration.maxBootingPerHost
                else { return nil }
                return (host.name, room)
            }
            return step.choose(candidates)?.0
        }
        var open = step.groups.filter { (step.targets[$0.name]?.targetVMs ?? 0) > step.current($0.name) }
        while !open.isEmpty {
            let position = step.lowestInWater(open)
            let group = open[position]
            let target = step.targets[group.name]?.targetVMs ?? 0
            let have = step.current(group.name) + step.created[group.name, default: 0]
            guard step.bootingSiteWide < step.configuration.maxBootingSiteWide else {
                for g in open {
                    let missing =
                        (step.targets[g.name]?.targetVMs ?? 0) - step.current(g.name) - step.created[g.name, default: 0]
                    step.shortfalls.append((g.name, missing, .throttled))
                }
                step.notes.append("throttled")
                return
            }
            guard let host = place(step.size(of: group)) else {
                step.shortfalls.append((group.name, target - have, .noRoom))
                step.notes.append("no room")
                open.remove(at: position)
                continue
            }
            step.creates.append(Directive(.create(group: group.name, host: host), reason: ""))
            step.free[host] = (step.free[host] ?? .zero) - step.size(of: group)
            step.bootingOnHost[host, default: 0] += 1
            step.bootingSiteWide += 1
            step.created[group.name, default: 0] += 1
            if have + 1 >= target { open.remove(at: position) }
        }
    }

    /// A random pool with many hosts, most with the same few room figures (ties), some not accepting.
    static func wide<R: RandomNumberGenerator>(_ rng: inout R) -> PoolSnapshot {
        var snapshot = RandomPool.snapshot(&rng)
        let extra = Int.random(in: 0...60, using: &rng)
        for i in 0..<extra {
            let cpus = [4, 8, 16].randomElement(using: &rng)!
            let free = Int.random(in: 0...cpus, using: &rng)
            snapshot.hosts.append(
                HostState(
                    name: "h\(Int.random(in: 0...999, using: &rng))-\(i)", cpus: cpus, memoryMiB: cpus * 2048,
                    freeCPUs: free, freeMemoryMiB: free * [1024, 2048].randomElement(using: &rng)!,
                    acceptingVMs: Int.random(in: 0...6, using: &rng) != 0))
        }
        for g in snapshot.groups.indices where Bool.random(using: &rng) {
            snapshot.groups[g].pendingCPUs += Int.random(in: 0...200, using: &rng)
        }
        return snapshot
    }

    @Test func theIndexedPlacementDecidesWhatTheLookUpsDecided() throws {
        var placed = 0
        for seed in 0..<3_000 {
            var rng = SplitMix64(seed: UInt64(seed))
            let snapshot = Self.wide(&rng)
            var configuration = RandomPool.configuration(&rng)
            configuration.maxBootingSiteWide = [0, 3, 50, 1_000].randomElement(using: &rng)!
            configuration.maxBootingPerHost = [0, 1, 2, 5].randomElement(using: &rng)!
            try snapshot.validate()
            var step = Planner.Step(configuration: configuration, snapshot: snapshot, now: 10_000)
            step.measureHosts()
            step.computeTargets()
            step.keepFirstStartedBusyVMs()
            step.destroyIdleDraining()
            step.drainSurplus()
            var reference = step
            step.createForDeficits()
            Self.referenceCreateForDeficits(&reference)
            let hosts = step.creates.map(\.action)
            #expect(hosts == reference.creates.map(\.action), "seed \(seed)")
            #expect(step.free == reference.free, "seed \(seed)")
            #expect(step.bootingOnHost == reference.bootingOnHost, "seed \(seed)")
            #expect(step.created == reference.created, "seed \(seed)")
            #expect(step.shortfalls.map(\.group) == reference.shortfalls.map(\.group), "seed \(seed)")
            #expect(step.shortfalls.map(\.count) == reference.shortfalls.map(\.count), "seed \(seed)")
            placed += hosts.count
        }
        #expect(placed > 3_000, "the cases placed too few VMs to compare: \(placed)")
    }
}
