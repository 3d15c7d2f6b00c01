import Foundation
import Synchronization
import Testing
import VEMBatch
import VEMDemo
import VEMManager
import VEMPolicy
import VEMPool
import VEMRules

/// Moves `clock` forward by `step` seconds every 10 ms of wall time until `condition` holds or `seconds` of wall
/// time pass (the site's Manager, Clients and replay run on that clock).
func advance(
    _ clock: ManualClock, by step: Double = 2, upTo limit: Double = .infinity, within seconds: Double = 30,
    until condition: @Sendable () async -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        if clock.now() + step <= limit { clock.advance(by: step) }
        do { try await Task.sleep(for: .milliseconds(10)) } catch { return false }
    }
    return await condition()
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass (the clock stands still).
func eventually(_ seconds: Double = 20, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        do { try await Task.sleep(for: .milliseconds(20)) } catch { return false }
    }
    return await condition()
}

/// The `hypervisor` property of `host` as the Manager last heard it: (cpus, free_vcpus).
func reportedRoom(_ manager: Manager, _ host: String) -> (cpus: Int64, free: Int64)? {
    let entry = manager.state.snapshot(at: manager.clock.now()).clients[host]
    guard case .object(let o)? = entry?.properties["hypervisor"]?.value, case .int(let cpus)? = o["cpus"],
        case .int(let free)? = o["free_vcpus"]
    else { return nil }
    return (cpus, free)
}

@Suite struct InProcessSiteTests {
    /// Group a sends 4 jobs of 1000 s at t=0; b is idle. One host of 4 vCPUs; real hub, real Clients, and the
    /// real Manager (its default vem.rebalance trigger, an in-memory journal) on a manual clock in trace seconds.
    /// The Dom0 Client drives the stand-in hypervisor, or libvirt's `test:///` driver. Takes 5–10 s.
    @Test(arguments: ["stand-in", "libvirt test:///"])
    func aBurstGetsVMsThroughTheRealManagerAndTheyGoAwayWhenIdle(hypervisor: String) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vem-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let clock = ManualClock(start: 0)
        let jobs = (1...4).map { ReplayJob(jobNumber: $0, group: "a", submitTime: 0, runTime: 1000) }
        var configuration = InProcessSite.Configuration(
            hosts: ["host1"], cpusPerHost: 4, memoryPerHostMiB: 8192,
            groups: [PoolGroup(name: "a", share: 50), PoolGroup(name: "b", share: 50)],
            policy: PolicyConfiguration(
                maxBootingSiteWide: 4, maxBootingPerHost: 4, minLifetime: 600, idleTimeout: 300,
                starvationGrace: PoolSimulation.preemptionOff,
                // Idle VMs go after `idleTimeout` (the rule before `keep_idle_vms`, still a site's choice): with
                // the default they would stay until group b wants the room, and b stays idle here.
                keepIdleVMs: false),
            bootDelay: .zero)
        if hypervisor != "stand-in" { configuration.hypervisor = .libvirtTest(directory: scratch) }
        let batch = try ReplayBatch(jobs: jobs, configuration: .init(wideJobs: .wait))
        try await withInProcessSite(configuration, batch: batch, clock: clock) { site in
            let manager = site.manager
            @Sendable func counters() async -> PoolCounters { await manager.pool.reconciler?.counters ?? PoolCounters() }
            // The Manager's triggers are the site's: its default vem.rebalance and the demo's vem.poll.
            #expect(manager.site.triggers.map(\.name).sorted() == ["vem.poll", "vem.rebalance"])
            // Clients' reports (replay_demand, hypervisor) → vem.rebalance → vm.create to the Dom0 Client.
            #expect(await advance(clock, upTo: 200) { await counters().created == 4 })
            // The DomU Clients join; the Manager registers their nodes through the batch Client; the jobs run.
            #expect(await advance(clock, upTo: 400) { site.replay.snapshot()[group: "a"]?.runningJobs == 4 })
            #expect(site.hub.members().filter { $0.role == .domU }.count == 4)
            #expect(await advance(clock, upTo: 900) { reportedRoom(manager, "host1")?.free == 0 })
            // The jobs end at 1000; idle VMs older than 600 s and idle for 300 s are drained, then destroyed.
            #expect(await advance(clock, by: 5) { await counters().drained == 4 })
            #expect(await advance(clock, by: 5) { await counters().destroyed == 4 })
            #expect(await advance(clock, by: 5) { reportedRoom(manager, "host1").map { $0 == (4, 4) } ?? false })
            #expect(site.replay.snapshot()[group: "a"]?.nodes.isEmpty == true)
            #expect(await eventually { site.hub.members().filter { $0.role == .domU }.isEmpty })
            let reconciler = try #require(await manager.pool.reconciler)
            let actions = reconciler.decisions.map(\.action)
            #expect(actions.filter { $0 == .create }.count == 4)
            #expect(actions.filter { $0 == .register }.count == 4)
            #expect(actions.filter { $0 == .destroy }.count == 4)
            #expect(reconciler.counters.failed == 0)
            // Every pool decision is journaled with the trigger that made it and its reason.
            let journaled = try await manager.journal.recentDecisions(limit: 10_000)
            let creates = journaled.filter { $0.action == "create" }
            #expect(creates.count == 4)
            #expect(creates.allSatisfy { $0.trigger == "vem.rebalance" && $0.group == "a" && $0.reason.contains("pending") })
            #expect(journaled.contains { $0.action == "policy.rebalance()" && $0.trigger == "vem.rebalance" })
            // vem.poll asks the Dom0 and batch Clients, not the guests.
            let polls = journaled.filter { $0.trigger == "vem.poll" }.map(\.action)
            #expect(polls.contains("send_get_property(clients=batch,host1, names=all)"), "\(Set(polls))")
            // The commands went through the journal too, done, tagged with the trigger.
            let commands = try await manager.journal.allCommands()
            #expect(commands.filter { $0.name == "vm.create" && $0.state == .done && $0.trigger == "vem.rebalance" }.count == 4)
            #expect(commands.filter { $0.name == "replay.register" && $0.client == InProcessSite.batchClient }.count == 4)
            // `vem explain a`: the last plan's account of the group.
            #expect(await manager.pool.lastTrigger == "vem.rebalance")
            #expect(await manager.pool.lastExplanation?.contains("group a:") == true)
            // Waits in trace seconds: the first property round (≤ 30 s), the plan, the VMs' boots and registrations.
            let waits = site.replay.withBatch { $0.records().compactMap(\.wait) }
            #expect(waits.count == 4)
            #expect(waits.allSatisfy { $0 > 0 && $0 <= 400 }, "waits \(waits)")
        }
    }
}

@Suite struct DemoSiteTests {
    @Test func theEmbeddedSiteLoadsThroughVEMSiteWithTheManagersDefaultRebalance() throws {
        let demo = DemoSite(
            groups: [PoolGroup(name: "g4", share: 67.7), PoolGroup(name: "other", share: 16.2, vmMemoryMiB: 1024)],
            policy: PolicyConfiguration(
                maxBootingSiteWide: 8, maxBootingPerHost: 4, minLifetime: 600, idleTimeout: 300,
                starvationGrace: PoolSimulation.preemptionOff),
            pollInterval: 30, rebalanceInterval: 60, migrationURI: "test:///tmp/demo/{host}.xml")
        let site = try demo.load()
        let manager = try #require(site.configuration.manager)
        #expect(manager.maxBooting == 8)
        #expect(manager.maxBootingPerHost == 4)
        #expect(manager.idleTimeout == .seconds(300))
        #expect(manager.minLifetime == .seconds(600))
        #expect(manager.starvationGrace == .seconds(DemoSite.longestGrace))
        #expect(manager.migration)
        #expect(manager.migrationURI == "test:///tmp/demo/{host}.xml")
        #expect(site.configuration.groups.map(\.share) == [67, 16])
        #expect(site.configuration.groups.last?.vmMemoryMiB == 1024)
        let rebalance = try #require(site.triggers.first { $0.name == "vem.rebalance" })
        #expect(rebalance.definition.ticks == 60)
        #expect(rebalance.definition.onUpdateCheck)
        #expect(rebalance.definition.location.file == "<vem defaults>")
        let poll = try #require(site.triggers.first { $0.name == "vem.poll" })
        #expect(poll.definition.ticks == 30)
        #expect(poll.definition.location.file == DemoSite.sourceName)
        // Without a migration URI the site turns migration off.
        let noMigration = DemoSite(groups: demo.groups, policy: demo.policy)
        #expect(try noMigration.load().configuration.manager?.migration == false)
    }

    @Test func theCompressedClockRunsEachPhaseAtItsRate() async throws {
        let clock = CompressedClock(
            origin: 1000, phases: [.init(from: 1000, rate: 100), .init(from: 2000, rate: 1000)])
        #expect(clock.now() == 1000)  // stands at the origin until started
        #expect(clock.virtualTime(afterWallSeconds: 5) == 1500)
        #expect(clock.virtualTime(afterWallSeconds: 10) == 2000)
        #expect(clock.virtualTime(afterWallSeconds: 12) == 4000)
        #expect(clock.wallSeconds(at: 1500) == 5)
        #expect(clock.wallSeconds(at: 4000) == 12)
        clock.start()
        let started = ContinuousClock.now
        try await clock.sleep(until: 1020)  // 0.2 s of wall time at ×100
        let waited = ContinuousClock.now - started
        #expect(clock.now() >= 1020)
        // Not before its instant (how late it wakes is the machine's scheduling, not the clock's arithmetic,
        // which the wall/virtual conversions above check exactly).
        #expect(waited >= .milliseconds(190), "waited \(waited)")
    }
}

@Suite struct PacedClockTests {
    /// The demo's clock leaves an instant only when the Manager is quiet (twice in a row), stops at each
    /// sleeper's deadline until that sleeper has gone on, and lets a hold go after its limit.
    @Test func thePacedClockWaitsForTheManagerAndForEachSleeper() async throws {
        let clock = PacedClock(
            rates: CompressedClock(origin: 1000, phases: [.init(from: 1000, rate: 100)]), maximumHold: .seconds(10))
        let busy = Mutex(true)
        clock.setBarrier { !busy.withLock { $0 } }
        clock.start(ticking: false)
        var wall = ContinuousClock.now
        func tick() {
            wall += .seconds(1)
            clock.advance(by: .seconds(1), at: wall)
        }
        tick()
        tick()
        #expect(clock.now() == 1000)  // the Manager is busy: the clock stands
        busy.withLock { $0 = false }
        tick()
        #expect(clock.now() == 1000)  // quiet once: not yet
        tick()
        #expect(clock.now() == 1100)
        let sleeper = Task { try await clock.sleep(until: 1150) }
        await clock.waitForSleepers()  // registered
        tick()
        #expect(clock.now() == 1150)  // stopped at the sleeper's deadline, not at 1200
        try await sleeper.value
        #expect(clock.sleepers == 0)
        tick()
        tick()
        #expect(clock.now() == 1250)
        // A Manager that never becomes quiet holds the clock for at most `maximumHold`.
        busy.withLock { $0 = true }
        for _ in 0..<11 { tick() }  // held 10 s: not longer than the limit yet
        #expect(clock.now() == 1250)
        tick()
        #expect(clock.now() == 1350)
        #expect(clock.holds.forced == 1)
    }
}
