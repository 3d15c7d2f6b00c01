import Foundation
import Testing
import VEMBatch
import VEMDemo
import VEMManager
import VEMPolicy
import VEMPool

/// The Manager's inventory follows a real libvirt `test:///` host: a domain shut off behind VEM's back is found
/// by the host's next `vm.list`.
@Suite struct HostHealingTests {
    @Test func aDomainShutOffBehindVEMsBackIsFoundByTheNextList() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vem-heal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let clock = ManualClock(start: 0)
        let jobs = (1...2).map { ReplayJob(jobNumber: $0, group: "a", submitTime: 0, runTime: 100_000) }
        var configuration = InProcessSite.Configuration(
            hosts: ["host1"], cpusPerHost: 4, memoryPerHostMiB: 8192,
            groups: [PoolGroup(name: "a", share: 50), PoolGroup(name: "b", share: 50)],
            policy: PolicyConfiguration(
                maxBootingSiteWide: 4, maxBootingPerHost: 4, minLifetime: 600, idleTimeout: 300,
                starvationGrace: PoolSimulation.preemptionOff),
            bootDelay: .zero)
        configuration.hypervisor = .libvirtTest(directory: scratch)
        // Time-outs stay off (the clock jumps); each host is listed every minute of the site's clock.
        configuration.healing.listInterval = 60
        let batch = try ReplayBatch(jobs: jobs, configuration: .init(wideJobs: .wait))
        try await withInProcessSite(configuration, batch: batch, clock: clock) { site in
            let manager = site.manager
            @Sendable func reconciler() async -> Reconciler? { await manager.pool.reconciler }
            #expect(await advance(clock, upTo: 400) { site.replay.snapshot()[group: "a"]?.runningJobs == 2 })
            let vm = try #require(await reconciler()?.inventory.first?.id)
            let host = try #require(site.libvirt?.hosts["host1"])
            try await host.connection().destroy(vm)  // the guest dies; its domain stays defined, shut off
            #expect(
                await advance(clock, by: 5, within: 30) {
                    await reconciler()?.decisions.contains { $0.vm == vm && $0.action == .lost } == true
                })
            let lost = try #require(await reconciler()?.decisions.first { $0.vm == vm && $0.action == .lost })
            #expect(lost.reason.contains("its domain on host1 is shut off"), "\(lost)")
            // Its domain is destroyed and undefined through the Dom0 Client (vm.destroy).
            #expect(await advance(clock, by: 5, within: 30) { (try? await host.connection().domain(named: vm)) == nil })
            // Gone from the pool (its node removed once the batch system lets go of it).
            #expect(
                await eventually {
                    guard let r = await reconciler() else { return false }
                    return r.vms[vm] == nil || r.vms[vm]?.gone == true
                })
            // The other VM is untouched.
            #expect(await reconciler()?.inventory.contains { $0.id != vm && $0.phase == .active } == true)
        }
    }
}
