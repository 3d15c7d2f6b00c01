import Foundation
import Synchronization
import VEMBatch
import VEMDemo
import VEMPolicy
import VEMPool

extension Demo {
    /// The demo over the in-process site: real hub, real Clients, the Manager side stepping every simulated minute.
    func runInProcess(
        _ source: DemoSource, policy: PolicyConfiguration, bootSeconds: Int, pace: DemoPace, screen: LiveScreen
    ) async throws -> DemoOutcome {
        let batch = try ReplayBatch(jobs: source.jobs, configuration: .init(window: source.window, wideJobs: .wait))
        let names = (1...hosts).map { "host\($0)" }
        var configuration = InProcessSite.Configuration(
            hosts: names, cpusPerHost: cpusPerHost, memoryPerHostMiB: cpusPerHost * 2048, groups: source.groups,
            policy: policy, bootDelay: .milliseconds(Int(Double(bootSeconds) / pace.windowRate * 1000)))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vem-demo-\(UUID().uuidString)")
        if hypervisor == "test" {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            configuration.hypervisor = .libvirtTest(directory: scratch)
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        let totalCPUs = hosts * cpusPerHost
        // The site's clock starts when the Clients have joined (before that it stands at the origin).
        let started = Mutex<ContinuousClock.Instant?>(nil)
        let reportedUsed = Mutex(0)
        let simulatedNow: @Sendable () -> Int = {
            guard let s = started.withLock({ $0 }) else { return pace.origin }
            return pace.simulatedTime(afterWallSeconds: (ContinuousClock.now - s).secondsValue)
        }
        let maxSeconds = maxSeconds
        // vCPUs held by VMs: the stand-ins know it; with libvirt, the hosts' last report to the Manager says it.
        @Sendable func used(_ site: InProcessSite) -> Int {
            site.libvirt == nil
                ? site.hosts.usedCPUs : reportedUsed.withLock { $0 }
        }
        let siteConfiguration = configuration
        return try await withInProcessSite(siteConfiguration, batch: batch, simulatedNow: simulatedNow) { site in
            let begin = ContinuousClock.now
            started.withLock { $0 = begin }
            var nextTick = pace.origin
            var peak: [String: Int] = [:]
            var peakTotal = 0
            var vmCPUSeconds = 0
            var accounted = pace.origin
            var finished = false
            var wall = 0.0
            while true {
                wall = (ContinuousClock.now - begin).secondsValue
                let now = simulatedNow()
                vmCPUSeconds += used(site) * max(0, now - accounted)
                accounted = max(accounted, now)
                if now >= nextTick {
                    await site.manager.step()
                    let hostsSeen = await site.manager.lastHosts
                    reportedUsed.withLock { $0 = hostsSeen.reduce(0) { $0 + $1.cpus - $1.freeCPUs } }
                    nextTick = (now / 60 + 1) * 60
                }
                let view = await site.manager.view
                for r in view.rows { peak[r.group] = max(peak[r.group] ?? 0, r.booting + r.active + r.draining) }
                peakTotal = max(peakTotal, view.rows.reduce(0) { $0 + $1.booting + $1.active + $1.draining })
                finished = site.replay.withBatch { b in
                    b.isFinished && b.snapshot().groups.allSatisfy { $0.pendingJobs == 0 }
                }
                let reconciler = await site.manager.reconciler
                let inVMs = used(site)
                screen.show(
                    wall: wall,
                    block: {
                        DemoTable.render(
                            view: view, inVMs: inVMs, total: totalCPUs,
                            counters: reconciler.counters, decisions: reconciler.decisions.suffix(3), wall: wall,
                            elapsed: now - pace.origin)
                    }, force: finished || wall >= maxSeconds)
                if finished || wall >= maxSeconds { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let reconciler = await site.manager.reconciler
            return DemoOutcome(
                batch: site.replay.withBatch { $0 }, counters: reconciler.counters, peakVMs: peak,
                peakTotal: peakTotal, vmCPUSeconds: vmCPUSeconds, finished: finished, wall: wall,
                decisions: reconciler.decisions)
        }
    }
}
