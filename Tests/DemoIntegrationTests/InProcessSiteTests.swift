import Foundation
import Synchronization
import Testing
import VEMBatch
import VEMDemo
import VEMPolicy
import VEMPool

/// The site's clock, moved by the test.
final class SiteClock: Sendable {
    private let value = Mutex(0)
    func set(_ t: Int) { value.withLock { $0 = t } }
    var read: @Sendable () -> Int { { [self] in value.withLock { $0 } } }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double = 20, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        do { try await Task.sleep(for: .milliseconds(20)) } catch { return false }
    }
    return await condition()
}

@Suite struct InProcessSiteTests {
    /// Group a sends 4 jobs of 1000 s at t=0; b is idle. One host of 4 vCPUs; real hub, real Clients; the
    /// Dom0 Client drives the stand-in hypervisor, or libvirt's `test:///` driver.
    @Test(arguments: ["stand-in", "libvirt test:///"])
    func aBurstGetsVMsThroughTheBusAndTheyGoAwayWhenIdle(hypervisor: String) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vem-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let clock = SiteClock()
        let jobs = (1...4).map { ReplayJob(jobNumber: $0, group: "a", submitTime: 0, runTime: 1000) }
        var configuration = InProcessSite.Configuration(
            hosts: ["host1"], cpusPerHost: 4, memoryPerHostMiB: 8192,
            groups: [PoolGroup(name: "a", share: 50), PoolGroup(name: "b", share: 50)],
            policy: PolicyConfiguration(
                maxBootingSiteWide: 4, maxBootingPerHost: 4, minLifetime: 600, idleTimeout: 300,
                starvationGrace: PoolSimulation.preemptionOff),
            bootDelay: .zero)
        if hypervisor != "stand-in" { configuration.hypervisor = .libvirtTest(directory: scratch) }
        let batch = try ReplayBatch(jobs: jobs, configuration: .init(wideJobs: .wait))
        try await withInProcessSite(configuration, batch: batch, simulatedNow: clock.read) { site in
            await site.manager.step()
            #expect(await site.manager.steps == 1)
            // Four VMs created on host1 by vm.create commands to its Dom0 Client.
            #expect(await eventually { await site.manager.reconciler.counters.created == 4 })
            // Their DomU Clients join; the Manager registers their nodes through the batch Client.
            #expect(await eventually { site.replay.snapshot()[group: "a"]?.runningJobs == 4 })
            #expect(site.hub.members().filter { $0.role == .domU }.count == 4)
            await site.manager.step()  // host.status through the Dom0 Client: the host is full
            #expect(await site.manager.lastHosts.first?.freeCPUs == 0)
            // The jobs end at 1000; idle VMs older than 600 s and idle for 300 s are drained, then destroyed.
            clock.set(1100)
            await site.manager.step()
            clock.set(1400)
            await site.manager.step()
            #expect(await eventually { await site.manager.reconciler.counters.drained == 4 })
            clock.set(1460)
            await site.manager.step()
            #expect(await eventually { await site.manager.reconciler.counters.destroyed == 4 })
            await site.manager.step()  // host.status: the room is back
            #expect(await site.manager.lastHosts.first?.freeCPUs == 4)
            #expect(site.replay.snapshot()[group: "a"]?.nodes.isEmpty == true)
            #expect(await eventually { site.hub.members().filter { $0.role == .domU }.isEmpty })
            let decisions = await site.manager.reconciler.decisions.map(\.action)
            #expect(decisions.filter { $0 == .create }.count == 4)
            #expect(decisions.filter { $0 == .register }.count == 4)
            #expect(decisions.filter { $0 == .destroy }.count == 4)
            #expect(await site.manager.reconciler.counters.failed == 0)
            let waits = site.replay.withBatch { $0.records().compactMap(\.wait) }
            #expect(waits == [0, 0, 0, 0])
        }
    }
}
