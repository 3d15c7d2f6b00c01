import VEMPolicy

/// A small, fast, seedable generator (SplitMix64): every random case is reproducible from its seed.
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

/// Short constructors for scripted scenarios.
enum Build {
    static func group(
        _ name: String, share: Double = 1, min: Int = 0, max: Int? = nil, cpus: Int = 1, memory: Int = 1024,
        pendingCPUs: Int = 0, wait: Int = 0
    ) -> GroupState {
        GroupState(
            name: name, share: share, minVMs: min, maxVMs: max, vmCPUs: cpus, vmMemoryMiB: memory,
            pendingCPUs: pendingCPUs, pendingJobs: pendingCPUs > 0 ? 1 : 0, oldestPendingWait: wait)
    }

    static func host(_ name: String, cpus: Int, memory: Int? = nil, accepting: Bool = true) -> HostState {
        HostState(name: name, cpus: cpus, memoryMiB: memory ?? cpus * 1024, acceptingVMs: accepting)
    }

    static func vm(
        _ id: String, _ group: String, on host: String, _ phase: VMState.Phase = .active, busy: Bool = true,
        idleSince: Int? = nil, createdAt: Int = 0, cpus: Int = 1, memory: Int = 1024, busySince: Int? = nil,
        requeued: Bool = false
    ) -> VMState {
        VMState(
            id: id, group: group, host: host, phase: phase, busy: busy, idleSince: idleSince, createdAt: createdAt,
            cpus: cpus, memoryMiB: memory, busySince: busySince, runsRequeuedWideJob: requeued)
    }

    /// Host `free` figures recomputed from the VMs listed on each host.
    static func withFreeFromVMs(_ snapshot: PoolSnapshot) -> PoolSnapshot {
        var s = snapshot
        for i in s.hosts.indices {
            let on = s.vms.filter { $0.host == s.hosts[i].name }
            s.hosts[i].freeCPUs = max(0, s.hosts[i].cpus - on.reduce(0) { $0 + $1.cpus })
            s.hosts[i].freeMemoryMiB = max(0, s.hosts[i].memoryMiB - on.reduce(0) { $0 + $1.memoryMiB })
        }
        return s
    }
}

extension Plan {
    var creates: [(group: String, host: String)] {
        directives.compactMap { if case .create(let g, let h) = $0.action { (g, h) } else { nil } }
    }
    var drains: [String] { directives.compactMap { if case .drain(let v) = $0.action { v } else { nil } } }
    var destroys: [String] { directives.compactMap { if case .destroy(let v) = $0.action { v } else { nil } } }
    var migrations: [(vm: String, host: String)] {
        directives.compactMap { if case .migrate(let v, let h) = $0.action { (v, h) } else { nil } }
    }
    func reason(for vm: String) -> String? { directives.first { $0.vm == vm }?.reason }
}

/// Random pools: groups, hosts and VMs within the hosts' capacity, biased towards edge cases.
enum RandomPool {
    static let groupNames = ["alice", "atlas", "babar", "cms", "lhcb", "virgo"]

    static func configuration<R: RandomNumberGenerator>(_ rng: inout R) -> PolicyConfiguration {
        PolicyConfiguration(
            maxBootingSiteWide: Int.random(in: 0...6, using: &rng),
            maxBootingPerHost: Int.random(in: 0...3, using: &rng),
            minLifetime: [0, 60, 600].randomElement(using: &rng)!,
            idleTimeout: [0, 120, 300].randomElement(using: &rng)!,
            starvationGrace: [0, 300, 1800].randomElement(using: &rng)!,
            placement: Bool.random(using: &rng) ? .pack : .spread,
            migrationAllowed: Bool.random(using: &rng), keepIdleVMs: Bool.random(using: &rng))
    }

    static func snapshot<R: RandomNumberGenerator>(_ rng: inout R, now: Int = 10_000) -> PoolSnapshot {
        let groups = groupNames.shuffled(using: &rng).prefix(Int.random(in: 1...5, using: &rng)).map { name in
            let cpus = [1, 1, 2, 4, 8].randomElement(using: &rng)!
            let min = Int.random(in: 0...3, using: &rng) == 0 ? Int.random(in: 1...3, using: &rng) : 0
            let max: Int? = Bool.random(using: &rng) ? nil : min + Int.random(in: 0...12, using: &rng)
            return GroupState(
                name: name, share: Double([1, 1, 2, 3, 10, 40].randomElement(using: &rng)!), minVMs: min,
                maxVMs: max, vmCPUs: cpus, vmMemoryMiB: cpus * [0, 512, 2048].randomElement(using: &rng)!,
                pendingCPUs: Int.random(in: 0...3, using: &rng) == 0 ? 0 : Int.random(in: 1...60, using: &rng),
                pendingJobs: Int.random(in: 0...10, using: &rng),
                oldestPendingWait: [0, 100, 5000].randomElement(using: &rng)!)
        }
        var hosts = (0..<Int.random(in: 1...6, using: &rng)).map { i in
            let cpus = [2, 4, 8, 16, 32].randomElement(using: &rng)!
            return HostState(
                name: "host\(i)", cpus: cpus, memoryMiB: cpus * [1024, 2048, 4096].randomElement(using: &rng)!,
                acceptingVMs: Int.random(in: 0...5, using: &rng) != 0)
        }
        var vms: [VMState] = []
        var used = [Int](repeating: 0, count: hosts.count)
        var usedMemory = [Int](repeating: 0, count: hosts.count)
        for n in 0..<Int.random(in: 0...24, using: &rng) {
            // Occasionally a VM of a group no longer configured.
            let groupName =
                Int.random(in: 0...15, using: &rng) == 0 ? "retired" : groups.randomElement(using: &rng)!.name
            let g = groups.first { $0.name == groupName }
            let (cpus, memory) = (g?.vmCPUs ?? 1, g?.vmMemoryMiB ?? 512)
            let h = Int.random(in: 0..<hosts.count, using: &rng)
            guard used[h] + cpus <= hosts[h].cpus, usedMemory[h] + memory <= hosts[h].memoryMiB else { continue }
            used[h] += cpus
            usedMemory[h] += memory
            let phase = [VMState.Phase.booting, .active, .active, .active, .draining].randomElement(using: &rng)!
            let created = now - [0, 30, 400, 700, 5000].randomElement(using: &rng)!
            let busy = phase != .booting && Bool.random(using: &rng)
            // A busy VM's job start: usually known (since its creation at the earliest); its job sometimes requeued.
            let since = busy && Int.random(in: 0...3, using: &rng) != 0 ? Int.random(in: created...now, using: &rng) : nil
            let requeued = busy && Int.random(in: 0...4, using: &rng) == 0
            vms.append(
                VMState(
                    id: "\(groupName)-vm\(n)", group: groupName, host: hosts[h].name, phase: phase, busy: busy,
                    idleSince: busy ? nil : min(now, created + [0, 100, 4000].randomElement(using: &rng)!),
                    createdAt: created, cpus: cpus, memoryMiB: memory, busySince: since, runsRequeuedWideJob: requeued))
        }
        // Sometimes a live migration is under way: the VM holds room on its destination too.
        if Int.random(in: 0...3, using: &rng) == 0, hosts.count > 1, let i = vms.indices.randomElement(using: &rng) {
            if let d = hosts.indices.first(where: {
                hosts[$0].name != vms[i].host && used[$0] + vms[i].cpus <= hosts[$0].cpus
                    && usedMemory[$0] + vms[i].memoryMiB <= hosts[$0].memoryMiB
            }) {
                vms[i].migratingTo = hosts[d].name
                used[d] += vms[i].cpus
                usedMemory[d] += vms[i].memoryMiB
            }
        }
        for h in hosts.indices {
            // Reported free: usually exact, sometimes less (room used by something else), sometimes stale-high.
            let slack = [0, 0, 0, 1, -1].randomElement(using: &rng)!
            hosts[h].freeCPUs = max(0, hosts[h].cpus - used[h] - slack)
            hosts[h].freeMemoryMiB = max(0, hosts[h].memoryMiB - usedMemory[h] - slack * 512)
        }
        return PoolSnapshot(groups: Array(groups), hosts: hosts, vms: vms)
    }
}
