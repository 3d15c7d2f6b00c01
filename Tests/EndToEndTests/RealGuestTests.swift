import Foundation
import Testing
import VEMSlurm
import VEMTestSupport

/// Issue 19's end-to-end test on a real guest: the `vem manager` process, a Dom0 Client on a real libvirtd (QEMU
/// TCG) and the batch Client on a real Slurm controller. A job for group A arrives → VEM creates the VM → the
/// guest (scripts/build-guest-image) boots, starts munged, `slurmd -Z` and `vem agent` → its Client joins → its
/// node is registered in Slurm → the job runs inside the guest and prints the guest's hostname and group on its
/// serial console → the queue empties → the VM is drained, removed from Slurm and destroyed. Prints its times.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RealGuestTests {
    static let a = SiteGroup(name: "atlas", share: 100, partition: "dynA", feature: "vemA", vcpus: 1, memoryMiB: 768)
    static let managerSettings = """
        [manager]
        listen = {hub}:0
        http_listen = 127.0.0.1:0
        heartbeat_interval = 1s
        poll_interval = 1s
        rebalance_interval = 2s
        idle_timeout = 3s
        # The scenario ends with the pool empty: idle VMs go after idle_timeout (the default keeps them until
        # another group wants their room).
        keep_idle_vms = no
        min_lifetime = 3s
        boot_timeout = 200
        migration = no
        placement = spread

        """

    @Test func aJobForAGroupBootsARealGuestThatJoinsRunsItAndGoesAway() async throws {
        let start = ContinuousClock.now
        let site = try await Site.start(
            managerSettings: Self.managerSettings, groups: [Self.a], hostNames: ["dom0-1"], hostCPUs: 2,
            hostMemoryMiB: 2048, realGuests: true)
        print("real guest: site up in \(ContinuousClock.now - start) (scratch \(site.dir))")
        var jobs: [Int] = []
        do {
            try await cycle(site, jobs: &jobs)
        } catch {
            await site.cluster.cancel(jobs)
            let consoles = (try? FileManager.default.contentsOfDirectory(atPath: site.dir))?
                .filter { $0.hasPrefix("console-") } ?? []
            for c in consoles {
                let text = (try? String(contentsOfFile: site.dir + "/" + c, encoding: .utf8)) ?? ""
                print("--- \(c):\n\(text.suffix(4000))")
            }
            print("real guest: failed; logs kept in \(site.dir)\n--- manager:\n\(site.manager.logTail)")
            await site.shutdown(keepFiles: true)
            throw error
        }
        await site.shutdown(keepFiles: false)
        print("real guest: total \(ContinuousClock.now - start)")
    }

    func cycle(_ site: Site, jobs: inout [Int]) async throws {
        let a = Self.a
        let batch = try site.cluster.batch()
        try await eventually("the Manager sees the Dom0 Client and the batch Client", within: .seconds(60)) {
            let clients = try await site.vem(["clients", "--json"])
            return ["dom0-1", "slurmctl"].allSatisfy { clients.contains("\"\($0)\"") } ? true : nil
        }
        #expect(try await site.domains().isEmpty)
        let submitted = ContinuousClock.now
        // The job prints where it runs on the guest's serial console (its output file would stay in the guest).
        let script = "g=$(tr ' ' '\\n' </proc/cmdline | sed -n 's/^vem.group=//p'); "
            + "echo \"REAL-GUEST-JOB host=$(hostname) group=$g\" | tee /dev/console"
        let out = try await runTool(
            "/usr/bin/sbatch",
            [
                "--parsable", "-p", a.partition, "-J", "real", "--mem=100", "-c", "1", "-o", "/dev/null", "--wrap",
                script,
            ],
            environment: site.cluster.environment)
        let id = out.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let job = try #require(Int(id), "sbatch printed '\(out)'")
        jobs.append(job)

        let vm = try await eventually("a VM of \(a.name) created", within: .seconds(60)) {
            try await site.domains().first { $0.value.group == a.name }?.key
        }
        let created = ContinuousClock.now
        print("real guest: \(vm) created \(created - submitted) after the job's submission")
        let console = try #require(site.realHosts).console(vm)
        func text() -> String { (try? String(contentsOfFile: console, encoding: .utf8)) ?? "" }
        // Three things happen in the guest's own order (its slurmd registers the node without waiting for the
        // Client): each is timed when first seen.
        var joined: ContinuousClock.Instant?
        var nodeUp: (at: ContinuousClock.Instant, node: SlurmNode)?
        var jobDone: (at: ContinuousClock.Instant, job: SlurmJob)?
        try await eventually("\(vm)'s Client joined, its node up in Slurm and the job done", within: .seconds(200)) {
            let now = ContinuousClock.now
            if joined == nil, try await site.vem(["clients", "--json"]).contains("\"\(vm)\"") { joined = now }
            let state = try await batch.readState()
            if nodeUp == nil, let node = state.nodes.first(where: {
                $0.name == vm && !$0.stateFlags.contains("NOT_RESPONDING") && !$0.stateFlags.contains("FUTURE")
                    && ["idle", "mixed", "allocated"].contains($0.state)
            }) {
                nodeUp = (now, node)
            }
            if jobDone == nil, let done = state.jobs.first(where: { $0.id == job && $0.state == "COMPLETED" }) {
                jobDone = (now, done)
            }
            return joined != nil && nodeUp != nil && jobDone != nil ? true : nil
        }
        let joinedAt = try #require(joined)
        let up = try #require(nodeUp)
        let ran = try #require(jobDone)
        let node = up.node
        let done = ran.job
        print(
            "real guest: after the VM's creation: Client joined \(joinedAt - created), node up in Slurm "
                + "\(up.at - created), job done \(ran.at - created)")
        #expect(text().contains("=== VEM GUEST IDENTITY vm=\(vm) group=\(a.name)"), "\(text().suffix(2000))")
        // It joined over mutual TLS with the credential the Manager issued it, read from its SMBIOS OEM strings.
        #expect(text().contains("=== VEM GUEST CREDENTIAL from SMBIOS"), "\(text().suffix(2000))")
        #expect(node.features == [a.feature])
        #expect(node.partitions == [a.partition])
        #expect(done.nodes == [vm])
        #expect(text().contains("REAL-GUEST-JOB host=\(vm) group=\(a.name)"), "\(text().suffix(2000))")
        try await eventually("\(vm) destroyed", within: .seconds(60)) {
            try await site.domains()[vm] == nil ? true : nil
        }
        try await eventually("\(vm) removed from Slurm", within: .seconds(20)) {
            try await batch.nodeExists(vm) ? nil : true
        }
        let gone = ContinuousClock.now
        print(
            "real guest: figures: boot→join \(joinedAt - created), join→first job done \(ran.at - joinedAt), "
                + "whole cycle (submit → VM gone) \(gone - submitted)")
        let printed = text().split(whereSeparator: \.isNewline).first { $0.contains("REAL-GUEST-JOB") } ?? "?"
        print("real guest: the job printed: \(printed)")
        // The domain is gone before the Dom0 Client's answer to vm.destroy reaches the Manager: wait for it.
        let lifecycle = [
            "vm.create done", "slurm.register done", "slurm.drain done", "slurm.remove done", "vm.destroy done",
        ]
        var sent: [SentCommand] = []
        _ = try? await eventually("the commands about \(vm) done", within: .seconds(20)) { () -> Bool? in
            sent = try await Scenario(site: site, a: a, b: a).commands(about: vm)
            return sent.map { "\($0.name) \($0.state)" } == lifecycle ? true : nil
        }
        #expect(sent.map { "\($0.name) \($0.state)" } == lifecycle, "\(sent)")
        let log = (try? String(contentsOfFile: site.manager.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("VM credential issued") && log.contains("VM credential revoked"), "\(site.manager.logTail)")
    }
}
