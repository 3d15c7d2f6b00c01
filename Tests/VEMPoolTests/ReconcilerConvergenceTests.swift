import Testing
import VEMBatch
import VEMPolicy

@testable import VEMPool

/// A seeded generator (SplitMix64): the same seed, the same run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The reconciler against a seeded world of faults (the pure core of issue 18's chaos test): hosts whose domains
/// vanish, unknown domains appearing, outcomes lost, delayed or failed, host lists answered late. Once the faults
/// stop, the inventory converges: every domain has a VM in the inventory and every VM a domain, every batch node
/// a VM, and no operation is left in flight.
@Suite struct ReconcilerConvergenceTests {
    /// What really exists: each host's VEM domains, and the batch system's nodes.
    struct World {
        var domains: [String: Set<String>] = ["h1": [], "h2": []]
        var nodes: Set<String> = []

        /// Carries out an operation; returns its error (nil: done).
        mutating func execute(_ op: PoolOperation) -> String? {
            switch op.kind {
            case .createVM(_, let host, _, _, _):
                domains[host, default: []].insert(op.vm)
            case .destroyVM(let host):
                guard domains[host]?.remove(op.vm) != nil else {
                    return "not_found: vm.destroy: no VEM domain with vm id '\(op.vm)' on this host"
                }
            case .registerNode: nodes.insert(op.vm)
            case .removeNode:
                guard nodes.remove(op.vm) != nil else { return "not_found: no node \(op.vm)" }
            case .drainNode, .migrateVM, .downNode: break
            }
            return nil
        }

        var batch: [BatchNode] {
            nodes.sorted().map {
                BatchNode(
                    name: $0, group: "atlas", cpus: 1, memoryMB: 1024, allocatedCPUs: 0, runningJobs: 0, state: .idle)
            }
        }
    }

    static let configuration = Reconciler.Configuration(
        operationTimeout: 60, migrationTimeout: 60, bootTimeout: 120, maxAttempts: 3, retryBackoff: 5, maxBackoff: 20,
        strayNodeGrace: 60)

    @Test(arguments: [1, 2, 3, 4, 5, 42, 1234] as [UInt64])
    func theInventoryConvergesOnTheWorldOnceTheFaultsStop(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        var world = World()
        var r = try Reconciler(
            groups: [PoolGroup(name: "atlas", share: 1, vmCPUs: 1, vmMemoryMiB: 1024)],
            configuration: Self.configuration)
        var now = 0
        var waiting: [(op: PoolOperation, at: Int)] = []  // outcomes not yet reported
        var lists: [(host: String, mark: Int, domains: Set<String>, at: Int)] = []
        var faults = 0
        // Unknown domains are numbered far apart, so the allocator (which skips past an adopted number) never
        // names a new VM like one of them.
        var unknown = 1_000_000

        func handle(_ ops: [PoolOperation], faulty: Bool) {
            for op in ops {
                guard faulty else {
                    waiting.append((op, now))
                    continue
                }
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: _ = world.execute(op)  // done, but its outcome is lost: it must time out
                case 1: waiting.append((PoolOperation(id: op.id, vm: op.vm, kind: op.kind), -1))  // fails unexecuted
                default: waiting.append((op, now + Int.random(in: 0...40, using: &rng)))  // delayed outcome
                }
            }
        }
        func deliver(upTo time: Int, faulty: Bool) {
            while let i = waiting.firstIndex(where: { $0.at <= time }) {
                let (op, at) = waiting.remove(at: i)
                let next =
                    if at == -1 {
                        r.onFailed(op.id, message: "failed: libvirtd unreachable", now: now)
                    } else if let error = world.execute(op) {
                        r.onFailed(op.id, message: error, now: now)
                    } else {
                        r.onSucceeded(op.id, now: now)
                    }
                handle(next, faulty: faulty)
            }
        }
        func step(faulty: Bool) {
            now += 10
            if faulty {
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    let host = ["h1", "h2"].randomElement(using: &rng)!
                    handle(
                        r.apply([Directive(.create(group: "atlas", host: host), reason: "demand")], now: now),
                        faulty: true)
                }
                if Int.random(in: 0..<8, using: &rng) == 0, let vm = r.inventory.randomElement(using: &rng) {
                    handle(r.apply([Directive(.destroy(vm: vm.id), reason: "surplus")], now: now), faulty: true)
                }
                if Int.random(in: 0..<10, using: &rng) == 0, let host = ["h1", "h2"].randomElement(using: &rng),
                    let vm = world.domains[host]?.sorted().randomElement(using: &rng)
                {
                    world.domains[host]?.remove(vm)  // vanished behind VEM's back
                    faults += 1
                }
                if Int.random(in: 0..<15, using: &rng) == 0 {
                    unknown += 1_000
                    world.domains[["h1", "h2"].randomElement(using: &rng)!, default: []].insert("atlas-vm-\(unknown)")
                    faults += 1
                }
            }
            deliver(upTo: now, faulty: faulty)
            // Guests whose domain runs join (their Client connects).
            for host in ["h1", "h2"] {
                for vm in (world.domains[host] ?? []).sorted()
                where r.vms[vm]?.clientJoined == false && Int.random(in: 0..<3, using: &rng) == 0 {
                    handle(r.onClientJoined(vm, now: now), faulty: faulty)
                }
            }
            // The planner asks again for a draining VM (its node removal failed): destroy it.
            if !faulty, now % 60 == 0 {
                let draining = r.vms.values.filter { $0.stage == .draining && $0.pending == nil }.map(\.id).sorted()
                handle(
                    r.apply(draining.map { Directive(.destroy(vm: $0), reason: "drained") }, now: now), faulty: false)
            }
            // Hosts are listed every 30 s; a list comes back late while faults run.
            if now % 30 == 0 {
                for host in ["h1", "h2"] {
                    let delay = faulty ? Int.random(in: 0...30, using: &rng) : 0
                    lists.append((host, r.listMark(), world.domains[host] ?? [], now + delay))
                }
            }
            while let i = lists.firstIndex(where: { $0.at <= now }) {
                let list = lists.remove(at: i)
                let domains = list.domains.sorted().map { HostDomain(vm: $0, group: "atlas", cpus: 1, memoryMiB: 1024) }
                handle(r.onHostListed(list.host, domains: domains, mark: list.mark, now: now), faulty: faulty)
            }
            if now % 30 == 0 {
                handle(
                    r.observe(
                        BatchSnapshot(
                            time: now,
                            groups: [GroupDemand(group: "atlas", pendingJobs: 0, pendingCPUs: 0, nodes: world.batch)]),
                        now: now), faulty: faulty)
            }
            handle(r.tick(now: now), faulty: faulty)
        }

        for _ in 0..<300 { step(faulty: true) }  // 50 minutes of faults
        #expect(faults >= 20, "only \(faults) faults")
        for op in waiting.indices { waiting[op].at = min(waiting[op].at, now) }  // the hosts answer again
        for _ in 0..<120 { step(faulty: false) }  // 20 quiet minutes

        let context = "seed \(seed): \(r.decisions.suffix(12).map(\.description).joined(separator: "\n"))"
        #expect(r.operationsInFlight.isEmpty, "\(context)")
        for host in ["h1", "h2"] {
            let inventory = Set(r.inventory.filter { $0.host == host && r.vms[$0.id]?.gone == false }.map(\.id))
            let domains = world.domains[host] ?? []
            let difference =
                "only in the inventory \(inventory.subtracting(domains).sorted()), only on the host "
                + "\(domains.subtracting(inventory).sorted())"
            #expect(inventory == domains, "\(host): \(difference); \(context)")
        }
        let registered = Set(r.vms.values.filter { $0.registered && !$0.gone }.map(\.id))
        let nodes =
            "nodes without a registered VM \(world.nodes.subtracting(registered).sorted()), registered VMs without a "
            + "node \(registered.subtracting(world.nodes).sorted())"
        let stuck = r.vms.values.filter { world.nodes.contains($0.id) != ($0.registered && !$0.gone) }
            .map { "\($0.id) \($0.stage) registered \($0.registered) joined \($0.clientJoined) gone \($0.gone)" }
        #expect(world.nodes == registered, "\(nodes); \(stuck); \(context)")
        #expect(r.vms.values.allSatisfy { !$0.gone }, "\(context)")
    }
}
