import Foundation
import Testing
import VEMManager
import VEMSlurm
import VEMTestSupport

/// Issue 18's chaos test on real components (the site of ``EndToEndTests``: the `vem manager` process, two Dom0
/// Clients on `test:///` hosts, the batch Client on a real slurmctld, a DomU Client and a `slurmd -Z` per VM).
///
/// While short jobs of both groups arrive, 24 faults strike on a schedule made from a seed (`VEM_CHAOS_SEED`,
/// default 1; the schedule is printed first): kill -9 of the Manager (restarted on the same journal and ports),
/// a host crash (a Dom0 Client and its `test:///` host end, its domains and their guests with them; the Client
/// comes back on an empty host), kill -9 of slurmctld (restarted on the same state), of a guest's DomU Client
/// and of a guest's slurmd (each restarted in the guest). Then, within stated times:
/// - **healed** (``healWithin``): every running domain has an inventory record (`vem vms`), every record past
///   `creating` has a running domain, and every batch node has a VM;
/// - **no job lost** (``jobsWithin``): every submitted job wrote its marker file (a requeued job may have run
///   twice), and Slurm holds no job that is not `COMPLETED` — except a job a crashed slurmctld forgot (gone from
///   its queue or its id given to a later job; reported), and a job Slurm holds after such a mix-up is released;
/// - **idle** (``idleWithin``): without demand the pool empties: no domain, no record, no batch node, no guest;
/// - **the journal is consistent** (read after a SIGTERM): every command has an outcome (done, failed or unknown),
///   but one sent in the last 5 s before the SIGTERM;
///   each Client's sequence numbers grow in journal order; every decision's time lies within the run and the
///   decisions are in time order (to the second: the pool's decisions carry whole seconds); every command was updated no earlier than it was created; the journal's
///   inventory is empty, like the hosts.
@Suite(.serialized, .timeLimit(.minutes(6)))
struct ChaosTests {
    static let a = SiteGroup(name: "atlas", share: 50, partition: "dynA", feature: "vemA", vcpus: 2, memoryMiB: 1024)
    static let b = SiteGroup(name: "cms", share: 50, partition: "dynB", feature: "vemB", vcpus: 2, memoryMiB: 1024)

    /// How long after the last fault's component is back the pool must be healed.
    static let healWithin: Duration = .seconds(60)
    /// How long after that every job must have finished.
    static let jobsWithin: Duration = .seconds(120)
    /// How long after that the pool must be empty.
    static let idleWithin: Duration = .seconds(60)

    /// The seed: `VEM_CHAOS_SEED`, else 1.
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["VEM_CHAOS_SEED"].flatMap { UInt64($0) } ?? 1
    }

    /// The Manager's settings: fixed ports (a restarted Manager must be found where its Clients look), short
    /// intervals, and healing times short enough for a test: every host listed every 3 s, operations time out
    /// after 15 s, a guest that does not join within 20 s is destroyed, a batch node without a VM is removed after
    /// 10 s. (Slurm's side: `SlurmdTimeout=10`, and a requeued job may start again after 10 s, `cred_expire`.)
    static func managerSettings(hubPort: Int, httpPort: Int) -> String {
        """
        [manager]
        listen = {hub}:\(hubPort)
        http_listen = 127.0.0.1:\(httpPort)
        insecure = yes
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
        host_list_interval = 3s
        operation_timeout = 15s
        boot_timeout = 20s
        stray_node_grace = 10s

        """
    }

    @Test func thePoolHealsAfterTwentyFourKillsWhileJobsArriveAndNoJobIsLost() async throws {
        let schedule = FaultSchedule(seed: Self.seed)
        print(schedule)
        #expect(schedule.faults.count >= 20)
        let start = ContinuousClock.now
        let ports = try freePorts(2)
        let site = try await Site.start(
            managerSettings: Self.managerSettings(hubPort: ports[0], httpPort: ports[1]), groups: [Self.a, Self.b],
            hostNames: ["dom0-1", "dom0-2"], hostCPUs: 4, hostMemoryMiB: 4096, slurmdTimeout: 10,
            credentialLifetime: 10)
        print("chaos: site up in \(ContinuousClock.now - start) (scratch \(site.dir))")
        do {
            try await ChaosRun(site: site, schedule: schedule).run()
        } catch {
            print("chaos: failed (seed \(schedule.seed)); logs kept in \(site.dir)\n--- manager:\n\(site.manager.logTail)")
            await site.shutdown(keepFiles: true)
            throw error
        }
        let keep = ProcessInfo.processInfo.environment["VEM_CHAOS_KEEP"] != nil
        await site.shutdown(keepFiles: keep)
        if keep { print("chaos: VEM_CHAOS_KEEP: the files are kept in \(site.dir)") }
        print("chaos: seed \(schedule.seed) passed in \(ContinuousClock.now - start)")
    }
}

/// One run of a schedule on a site.
struct ChaosRun {
    let site: Site
    let schedule: FaultSchedule

    /// The jobs submitted so far (the schedule's index → Slurm's id) and the submissions Slurm refused.
    actor Book {
        var ids: [(index: Int, id: Int)] = []
        var refused: [String] = []
        func add(_ index: Int, _ id: Int) { ids.append((index, id)) }
        func refuse(_ why: String) { refused.append(why) }
    }

    var markers: String { site.dir + "/markers" }

    func run() async throws {
        let batch = try site.cluster.batch()
        try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)
        try await eventually("the Manager sees both Dom0 Clients and the batch Client", within: .seconds(30)) {
            let clients = try await site.vem(["clients", "--json"])
            return ["dom0-1", "dom0-2", "slurmctl"].allSatisfy { clients.contains("\"\($0)\"") } ? true : nil
        }
        let wallStart = Date().timeIntervalSince1970
        let t0 = ContinuousClock.now
        @Sendable func elapsed() -> String {
            let d = ContinuousClock.now - t0
            return String(format: "%.1fs", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }

        // The jobs arrive on their own schedule while the faults strike.
        let book = Book()
        let submitter = Task {
            for (i, job) in schedule.jobs.enumerated() {
                try? await Task.sleep(until: t0 + .milliseconds(Int(job.at * 1000)), clock: .continuous)
                let group = site.groups[job.group]
                let script = "sleep \(job.seconds); touch \(markers)/chaos\(i)"
                do {
                    let id = try await site.cluster.submit(
                        partition: group.partition, name: "chaos\(i)", script: script, requeue: true)
                    await book.add(i, id)
                } catch {
                    await book.refuse("job \(i) at \(elapsed()): \(error)")
                }
            }
        }

        // The faults, each restarted after its down time by a task of its own.
        var applied = 0
        var restarts: [Task<Void, any Error>] = []
        var back: [FaultSchedule.Kind: Task<Void, any Error>] = [:]
        for (i, fault) in schedule.faults.enumerated() {
            try await Task.sleep(until: t0 + .milliseconds(Int(fault.at * 1000)), clock: .continuous)
            // A late fault (one that waited for a guest) never hits a component before it is back.
            try await back[fault.kind]?.value
            let before = restarts.count
            let down = Duration.milliseconds(Int(fault.down * 1000))
            let what: String?
            switch fault.kind {
            case .manager:
                await site.killManager()
                what = "the Manager"
                restarts.append(Task { try await Task.sleep(for: down); try await site.restartManager() })
            case .dom0:
                let host = ["dom0-1", "dom0-2"][fault.pick % 2]
                let guests = await site.guests.runningVMs.count
                await site.crashDom0(host)
                what = "\(host) (a host crash; guests running before: \(guests))"
                restarts.append(Task { try await Task.sleep(for: down); try await site.startDom0(host) })
            case .slurmctld:
                await site.cluster.killController()
                what = "slurmctld"
                restarts.append(Task { try await Task.sleep(for: down); try await site.cluster.startController() })
            case .guestClient, .slurmd:
                let process: Guests.GuestProcess = fault.kind == .slurmd ? .slurmd : .agent
                // A guest fault waits (at most 20 s) for a guest: host crashes may have emptied the pool.
                let victim = try? await eventually("a running guest", within: .seconds(20)) { () -> String? in
                    let vms = await site.guests.runningVMs.sorted()
                    guard !vms.isEmpty else { return nil }
                    let vm = vms[fault.pick % vms.count]
                    return await site.guests.kill(process, of: vm) ? vm : nil
                }
                if let vm = victim {
                    what = "\(vm)'s \(process.rawValue)"
                    let guests = site.guests
                    restarts.append(
                        Task {
                            try await Task.sleep(for: down)
                            _ = try await guests.restart(process, of: vm)
                        })
                } else {
                    what = nil
                }
            }
            if restarts.count > before { back[fault.kind] = restarts.last }
            if let what {
                applied += 1
                print("chaos: \(elapsed()): fault \(i + 1): kill -9 \(what); back in \(fault.down)s")
            } else {
                print("chaos: \(elapsed()): fault \(i + 1): \(fault.kind.rawValue) skipped, no guest running")
            }
        }
        for r in restarts { try await r.value }
        await submitter.value
        let calm = ContinuousClock.now
        print("chaos: \(elapsed()): the faults are over (\(applied) applied); every component is back")
        #expect(applied >= 20, "only \(applied) of \(schedule.faults.count) faults found their target")
        #expect(site.manager.isRunning && site.batchAgent.isRunning)

        // Healed: domains, inventory and batch nodes agree.
        let healed = try await explained(try await agreement(batch).joined(separator: "; ")) {
            var shown = ContinuousClock.now
            return try await eventually("domains, inventory and batch nodes agree", within: ChaosTests.healWithin) {
                let wrong = try await agreement(batch)
                if !wrong.isEmpty, ContinuousClock.now - shown > .seconds(10) {
                    shown = ContinuousClock.now
                    print("chaos: \(elapsed()): not healed yet: \(wrong.prefix(4).joined(separator: "; "))")
                }
                return wrong.isEmpty ? ContinuousClock.now - calm : nil
            }
        }
        print("chaos: healed \(healed) after the last fault (bound \(ChaosTests.healWithin))")

        // No job lost. A slurmctld killed before it saved a job it had accepted forgets the job (and may give its
        // id to a later one): Slurm lost that job, not VEM (reported, and no marker asked of it). A job Slurm holds
        // after such a mix-up (JobHeldUser/JobHeldAdmin) is released, as an operator would.
        let submitted = await book.ids
        let refused = await book.refused
        let known = Set(try await batch.readState().jobs.map(\.id))
        let forgotten = submitted.filter { s in
            !FileManager.default.fileExists(atPath: markers + "/chaos\(s.index)")
                && (!known.contains(s.id) || submitted.contains { $0.id == s.id && $0.index > s.index })
        }
        let ids = submitted.filter { s in !forgotten.contains { $0.index == s.index } }
        // Only a slurmctld crash makes Slurm forget a job (VEM cancels none): each was submitted before one.
        let lastControllerKill = schedule.faults.filter { $0.kind == .slurmctld }.map(\.at).max() ?? 0
        for job in forgotten {
            #expect(
                schedule.jobs[job.index].at <= lastControllerKill + 30,
                "job \(job.index) (\(job.id)) vanished from Slurm without a slurmctld crash after its submission")
        }
        print("chaos: \(submitted.count) jobs submitted, \(refused.count) refused by sbatch: \(refused)")
        if !forgotten.isEmpty {
            print("chaos: slurmctld's restarts forgot \(forgotten.count) accepted jobs (ids given again): \(forgotten)")
        }
        #expect(submitted.count >= schedule.jobs.count / 2, "most submissions must succeed: \(refused)")
        @Sendable func unfinished() async throws -> String {
            let jobs = try await batch.readState().jobs
            let lost = jobs.filter {
                ["FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "BOOT_FAIL", "OUT_OF_MEMORY"].contains($0.state)
            }
            if !lost.isEmpty { throw HarnessError("jobs lost: \(lost.map { "\($0.id) \($0.state)" })") }
            let held = jobs.filter { $0.state == "PENDING" && $0.stateReason.hasPrefix("JobHeld") }.map(\.id)
            if !held.isEmpty {
                print("chaos: Slurm holds jobs \(held): released")
                try? await site.cluster.release(held)
            }
            let open = jobs.filter { $0.state != "COMPLETED" }.map { "\($0.id) \($0.state) \($0.stateReason)" }
            let missing = ids.filter { !FileManager.default.fileExists(atPath: markers + "/chaos\($0.index)") }
            return open.isEmpty && missing.isEmpty ? "" : "open jobs: \(open); no marker: \(missing)"
        }
        let finished = try await explained(try await unfinished()) {
            try await eventually("every job finished", within: ChaosTests.jobsWithin) { () -> Duration? in
                try await unfinished().isEmpty ? ContinuousClock.now - calm : nil
            }
        }
        print("chaos: every job finished \(finished) after the last fault (bound \(ChaosTests.jobsWithin) more)")

        // Idle: the pool empties.
        @Sendable func remaining() async throws -> String {
            let vms = try await listedVMs().map { "\($0.name) \($0.stage)" }
            let domains = try await site.domains().keys.sorted()
            let nodes = try await batch.readState().nodes.map { "\($0.name) \($0.state)" }
            let guests = await site.guests.runningVMs.sorted()
            return vms.isEmpty && domains.isEmpty && nodes.isEmpty && guests.isEmpty
                ? "" : "VMs \(vms), domains \(domains), nodes \(nodes), guests \(guests)"
        }
        let idle = try await explained(try await remaining()) {
            try await eventually("the pool empty", within: ChaosTests.idleWithin) { () -> Duration? in
                try await remaining().isEmpty ? ContinuousClock.now - calm : nil
            }
        }
        print("chaos: the pool was empty \(idle) after the last fault")

        // The journal, after a SIGTERM.
        let stopped = Date().timeIntervalSince1970
        await site.manager.stop()
        try await checkJournal(from: wallStart, stoppedAt: stopped)
        let problems = await site.guests.problems
        #expect(problems.isEmpty, "\(problems)")
    }

    /// Runs `body`; when it fails, the error says what `state` reads then.
    func explained<T>(_ state: @autoclosure () async throws -> String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            let now = (try? await state()) ?? "?"
            throw HarnessError("\(error); now: \(now)")
        }
    }

    /// What keeps domains, inventory and batch nodes from agreeing (empty when they agree).
    func agreement(_ batch: SlurmBatch) async throws -> [String] {
        let vms = try await listedVMs()
        let domains = try await site.domains()
        let nodes = try await batch.readState().nodes
        let records = Set(vms.map(\.name))
        var wrong: [String] = []
        for name in domains.keys.sorted() where !records.contains(name) { wrong.append("domain \(name) has no record") }
        for vm in vms where vm.stage != "creating" && domains[vm.name] == nil {
            wrong.append("record \(vm.name) (\(vm.stage)) has no domain")
        }
        for node in nodes where !records.contains(node.name) { wrong.append("node \(node.name) has no VM") }
        if !wrong.isEmpty {
            // The details, for the failure message.
            wrong.append("nodes: " + nodes.map { "\($0.name) \($0.state) \($0.stateFlags)" }.joined(separator: ", "))
            wrong.append("vms: " + (try await site.vem(["vms", "--json"])).replacingOccurrences(of: "\n", with: " "))
        }
        return wrong
    }

    func listedVMs() async throws -> [ListedVM] {
        try JSONDecoder().decode([ListedVM].self, from: Data(try await site.vem(["vms", "--json"]).utf8))
    }

    /// The journal's consistency (see ``ChaosTests``).
    func checkJournal(from wallStart: Double, stoppedAt: Double) async throws {
        let journal = try Journal(path: site.dir + "/journal.sqlite")
        let commands = try await journal.allCommands().sorted { $0.id < $1.id }
        // A command sent just before the SIGTERM (a host's periodic vm.list) may still be on its way: a restarted
        // Manager would resend it. Every older one has its outcome.
        let open = commands.filter { !$0.state.isFinal && $0.createdAt < stoppedAt - 5 }
        #expect(open.isEmpty, "commands without an outcome: \(open.map { "\($0.id) \($0.name)@\($0.client) \($0.state)" })")
        var lastSeq: [String: UInt64] = [:]
        for c in commands {
            if let last = lastSeq[c.client] {
                #expect(c.seq > last, "\(c.client): command \(c.id) has seq \(c.seq) after \(last)")
            }
            lastSeq[c.client] = c.seq
            #expect(c.updatedAt >= c.createdAt, "command \(c.id) updated before it was created")
        }
        let now = Date().timeIntervalSince1970
        let decisions = try await journal.recentDecisions(limit: 1_000_000).reversed() as [DecisionRecord]
        // In time order, to the second: the pool's decisions carry its clock's whole seconds, the triggers' the
        // Manager's time.
        var previous = -Double.infinity
        for d in decisions {
            #expect(d.time >= wallStart - 60 && d.time <= now + 1, "a decision's time is off: \(d)")
            #expect(d.time.rounded(.down) >= previous.rounded(.down), "decisions out of time order: \(d)")
            previous = d.time
        }
        let inventory = try await journal.inventory()
        #expect(inventory.isEmpty, "the journal's inventory is not empty: \(inventory.map(\.name))")
        let actions = Dictionary(decisions.map { ($0.action, 1) }, uniquingKeysWith: +)
        print("chaos: journal: \(commands.count) commands, \(decisions.count) decisions \(actions.sorted { $0.key < $1.key })")
    }
}
