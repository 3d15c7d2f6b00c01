import Foundation
import Testing
import VEMSlurm
import VEMTestSupport

/// Issue 10's end-to-end test on real components: the `vem manager` process with its default triggers, two
/// Dom0 Clients on libvirt `test:///` hosts, the batch Client (`vem agent`) on a real Slurm controller, and for
/// every VM a stand-in guest (a DomU Client and a dynamic `slurmd` in the VM's own network namespace).
///
/// Phase 1: jobs for group B (`cms`) arrive while B has no VMs → a B VM is created → it registers in Slurm with
/// B's feature → the jobs run on it → the queue empties → the VM is drained, destroyed and removed from Slurm.
/// Phase 2: groups A (`atlas`) and B both saturate → their VM counts converge to their shares and stay there.
/// Then `vem explain` names, for every VM created or destroyed, the trigger and the reason.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct EndToEndTests {
    /// Shares 75/25; VMs of 2 vCPUs and 1 GiB; two hosts of 4 vCPUs and 4 GiB: a pool of 4 VMs, 3 for A, 1 for B.
    static let a = SiteGroup(name: "atlas", share: 75, partition: "dynA", feature: "vemA", vcpus: 2, memoryMiB: 1024)
    static let b = SiteGroup(name: "cms", share: 25, partition: "dynB", feature: "vemB", vcpus: 2, memoryMiB: 1024)
    static let targets = [a.name: 3, b.name: 1]

    /// The Manager's settings: short intervals; the triggers are the Manager's defaults (`vem.poll`,
    /// `vem.rebalance`). `{hub}` is the host side of the hub's link (off loopback: mutual TLS, the site CA's files
    /// appended by ``Site``).
    static let managerSettings = """
        [manager]
        listen = {hub}:0
        http_listen = 127.0.0.1:0
        # The hub listens on a private veth link, off loopback, with mutual TLS: every Client's certificate is
        # its identity (the tls_* lines follow).
        heartbeat_interval = 1s
        poll_interval = 1s
        rebalance_interval = 2s
        idle_timeout = 3s
        # The scenario ends with the pool empty: idle VMs go after idle_timeout (the default keeps them until
        # another group wants their room).
        keep_idle_vms = no
        min_lifetime = 3s
        migration = no
        placement = spread

        """
    /// The trigger every pool decision must name.
    static let trigger = "vem.rebalance"

    @Test func aGroupsJobsGetAVMThatGoesAwayAfterwardsAndSaturatedGroupsConvergeToTheirShares() async throws {
        let start = ContinuousClock.now
        let site = try await Site.start(
            managerSettings: Self.managerSettings, groups: [Self.a, Self.b], hostNames: ["dom0-1", "dom0-2"],
            hostCPUs: 4, hostMemoryMiB: 4096)
        print("e2e: site up in \(ContinuousClock.now - start) (scratch \(site.dir))")
        var jobs: [Int] = []
        do {
            try await Scenario(site: site, a: Self.a, b: Self.b).run(jobs: &jobs)
        } catch {
            await site.cluster.cancel(jobs)
            print("e2e: failed; logs kept in \(site.dir)\n--- manager:\n\(site.manager.logTail)")
            await site.shutdown(keepFiles: true)
            throw error
        }
        await site.cluster.cancel(jobs)
        let stopping = ContinuousClock.now
        await site.shutdown(keepFiles: false)
        print("e2e: stopped in \(ContinuousClock.now - stopping); total \(ContinuousClock.now - start)")
    }
}

/// One decision of `vem explain --json`.
/// One VM of `vem vms --json`.
struct ListedVM: Decodable {
    var name: String
    var group: String
    var stage: String
    var registered: Bool
}

struct ExplainedDecision: Decodable {
    var trigger: String
    var action: String
    var reason: String
    var vm: String?
    var group: String?
}

struct Explained: Decodable {
    var decisions: [ExplainedDecision]
}

/// One command of `vem commands --json`.
struct SentCommand: Decodable, CustomStringConvertible {
    struct Argument: Decodable {
        var value: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            value = try? c.decode(String.self, forKey: .value)
        }

        enum CodingKeys: String, CodingKey { case value }
    }

    var id: Int
    var client: String
    var name: String
    var state: String
    var trigger: String?
    var arguments: [Argument]
    var result: String?

    /// The arguments' text.
    var words: [String] { arguments.compactMap(\.value) }
    var description: String { "\(name) \(words.joined(separator: " ")) @\(client): \(state) \(result ?? "")" }
}

/// The scenario's steps, each with a deadline.
struct Scenario {
    let site: Site
    let a: SiteGroup
    let b: SiteGroup

    func run(jobs: inout [Int]) async throws {
        let batch = try site.cluster.batch()
        try await eventually("the Manager sees both Dom0 Clients and the batch Client", within: .seconds(30)) {
            let clients = try await site.vem(["clients", "--json"])
            return ["dom0-1", "dom0-2", "slurmctl"].allSatisfy { clients.contains("\"\($0)\"") } ? true : nil
        }

        // Phase 1: two short jobs for B, which has no VM.
        let phase1 = ContinuousClock.now
        #expect(try await site.domains().isEmpty)
        let bJobs = try await site.cluster.submit(partition: b.partition, name: "b-short", seconds: 3, count: 2)
        jobs += bJobs
        let vm = try await eventually("a VM of group \(b.name) created", within: .seconds(60)) {
            try await site.domains().first { $0.value.group == b.name }?.key
        }
        print("e2e: phase 1: \(vm) running after \(ContinuousClock.now - phase1)")
        #expect(try await site.domains().values.allSatisfy { $0.group == b.name }, "only \(b.name) has demand")
        let node = try await eventually("\(vm) registered in Slurm and up in \(b.partition)", within: .seconds(60)) {
            try await batch.readState().nodes.first {
                $0.name == vm && !$0.stateFlags.contains("NOT_RESPONDING") && !$0.stateFlags.contains("FUTURE")
                    && ["idle", "mixed", "allocated"].contains($0.state)
            }
        }
        print("e2e: phase 1: \(vm) up in Slurm after \(ContinuousClock.now - phase1)")
        // The guest's slurmd starts at boot and may create the node before the Manager registers it (which then
        // adopts it): `scontrol create` names the host after the node, slurmd's registration after the machine.
        let shown = try await runTool(
            "/usr/bin/scontrol", ["-o", "show", "node", vm], environment: site.cluster.environment)
        let creator = shown.contains("NodeHostName=\(vm) ") ? "slurm.register" : "its slurmd (adopted)"
        print("e2e: phase 1: \(vm)'s node was created by \(creator)")
        #expect(node.features == [b.feature])
        #expect(node.partitions == [b.partition])
        #expect(node.isDynamic)
        let address = await site.guests.lives[vm]?.address
        #expect(address != nil && node.address == address, "the node's address is its guest's: \(node.address)")
        let done = try await eventually("\(b.name)'s jobs completed", within: .seconds(60)) { () -> [SlurmJob]? in
            let mine = try await batch.readState().jobs.filter { bJobs.contains($0.id) }
            return mine.count == bJobs.count && mine.allSatisfy { $0.state == "COMPLETED" } ? mine : nil
        }
        #expect(done.allSatisfy { $0.nodes == [vm] }, "the jobs ran on \(vm): \(done.map(\.nodes))")
        #expect(try await batch.snapshot()[group: b.name]?.pendingJobs == 0)
        print("e2e: phase 1: jobs done after \(ContinuousClock.now - phase1)")
        try await eventually("\(vm) destroyed", within: .seconds(60)) {
            try await site.domains()[vm] == nil ? true : nil
        }
        try await eventually("\(vm) removed from Slurm", within: .seconds(10)) {
            try await batch.nodeExists(vm) ? nil : true
        }
        try await eventually("\(vm)'s guest stopped", within: .seconds(10)) {
            await site.guests.runningVMs.contains(vm) ? nil : true
        }
        let decisions = try await explain(vm)
        let lifecycle = ["create", "register", "drain", "destroy"]
        #expect(
            decisions.map(\.action).filter(lifecycle.contains).reversed() == lifecycle, "\(decisions.map(\.action))")
        // The commands the Manager sent for it, in order, each done by its Client.
        let sent = try await commands(about: vm)
        #expect(
            sent.map { "\($0.name) \($0.state)" } == [
                "vm.create done", "slurm.register done", "slurm.drain done", "slurm.remove done", "vm.destroy done",
            ], "\(sent)")
        #expect(sent.allSatisfy { $0.trigger == EndToEndTests.trigger })
        let register = try #require(sent.first { $0.name == "slurm.register" })
        #expect(register.words == [vm, b.name, String(b.vcpus), String(b.memoryMiB), address ?? "?"])
        print("e2e: phase 1: \(vm) created, ran the jobs, drained, destroyed in \(ContinuousClock.now - phase1)")

        // Phase 2: both groups saturate at once. The jobs are submitted held and released by one `scontrol
        // release`, so the Manager sees both groups' demand in the same batch snapshot. (Arriving apart, the first
        // group would take the whole pool, and the second would get its share only by graceful reclaim, when a
        // 600 s job on a drained VM ends: the policy never kills a job to reclaim.)
        let phase2 = ContinuousClock.now
        var held = try await site.cluster.submit(partition: a.partition, name: "a-long", seconds: 600, count: 8, held: true)
        held += try await site.cluster.submit(partition: b.partition, name: "b-long", seconds: 600, count: 4, held: true)
        jobs += held
        try await site.cluster.release(held)
        let expected = EndToEndTests.targets
        try await eventually("VM counts at the shares \(expected), every VM a busy node", within: .seconds(90)) {
            try await counts(batch) == expected ? true : nil
        }
        print("e2e: phase 2: converged to \(expected) in \(ContinuousClock.now - phase2)")
        // … and they stay there for several polling rounds (1 s each).
        let hold = ContinuousClock.now
        while ContinuousClock.now - hold < .seconds(6) {
            let now = try await counts(batch)
            #expect(now == expected, "the counts moved to \(now)")
            if now != expected { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        // The Manager's own account agrees: `vem vms` lists the same VMs per group, each active and registered.
        let listed = try JSONDecoder().decode([ListedVM].self, from: Data(try await site.vem(["vms", "--json"]).utf8))
        let active = listed.filter { $0.stage == "active" && $0.registered }
        #expect(Dictionary(active.map { ($0.group, 1) }, uniquingKeysWith: +) == expected, "\(listed)")
        let running = try await batch.readState().jobs.filter { $0.state == "RUNNING" }
        #expect(running.filter { $0.partitions == [a.partition] }.count == 6)
        #expect(running.filter { $0.partitions == [b.partition] }.count == 2)

        // Every VM created or destroyed: `vem explain VM` names the trigger and the reason.
        let lives = await site.guests.lives
        #expect(lives.count == 1 + expected.values.reduce(0, +), "\(lives.keys.sorted())")
        for (name, life) in lives.sorted(by: { $0.key < $1.key }) {
            let decisions = try await explain(name)
            var actions = ["create"]
            if life.stoppedAt != nil { actions.append("destroy") }
            for action in actions {
                let d = try #require(decisions.first { $0.action == action }, "no \(action) decision for \(name)")
                #expect(d.trigger == EndToEndTests.trigger)
                #expect(d.group == life.group)
                #expect(names(d.reason, group: life.group, besides: name), "\(name): \(action): \(d.reason)")
            }
            let text = try await site.vem(["explain", name])
            for action in actions {
                #expect(text.contains("[\(EndToEndTests.trigger)] \(action) \(name), group \(life.group): "), "\(text)")
            }
            let lines = text.split(separator: "\n").filter { $0.contains("] ") && $0.contains(name) }
            print("e2e: vem explain \(name):\n" + lines.joined(separator: "\n"))
        }
        let problems = await site.guests.problems
        #expect(problems.isEmpty, "\(problems)")
        #expect(site.manager.isRunning && site.batchAgent.isRunning)
    }

    /// Whether `reason` names `group` as a word of its own (not only inside the VM's name).
    func names(_ reason: String, group: String, besides vm: String) -> Bool {
        reason.replacingOccurrences(of: vm, with: " ")
            .split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "_" })
            .contains { $0 == group }
    }

    /// The commands about a VM (its name an argument, or `vm=<name>`), oldest first, from `vem commands --json`.
    func commands(about vm: String) async throws -> [SentCommand] {
        let json = try await site.vem(["commands", "--json", "--limit", "1000"])
        return try JSONDecoder().decode([SentCommand].self, from: Data(json.utf8))
            .filter { $0.words.contains(vm) || $0.words.contains("vm=\(vm)") }.sorted { $0.id < $1.id }
    }

    /// The decisions about a VM, from `vem explain VM --json`.
    func explain(_ vm: String) async throws -> [ExplainedDecision] {
        let json = try await site.vem(["explain", vm, "--json"])
        return try JSONDecoder().decode(Explained.self, from: Data(json.utf8)).decisions.filter { $0.vm == vm }
    }

    /// VMs per group that are running domains and busy nodes of their group's partition in Slurm (the others
    /// are counted as `booting`).
    func counts(_ batch: SlurmBatch) async throws -> [String: Int] {
        let domains = try await site.domains()
        let nodes = try await batch.readState().nodes
        var counts: [String: Int] = [:]
        for (vm, d) in domains {
            guard let group = d.group, let g = site.groups.first(where: { $0.name == group }) else {
                counts["unknown", default: 0] += 1
                continue
            }
            let up = nodes.contains {
                $0.name == vm && $0.partitions == [g.partition] && ["mixed", "allocated"].contains($0.state)
                    && !$0.stateFlags.contains("NOT_RESPONDING")
            }
            counts[up ? group : "booting", default: 0] += 1
        }
        return counts
    }
}
