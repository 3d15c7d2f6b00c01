import Foundation
import Testing
import VEMManager
import VEMSlurm
import VEMTestSupport

/// Issue 19's end-to-end test on a real guest, and issue 20's `vem host drain` under a running job: the Manager
/// (``InProcessManager``: `vem manager`'s service, run here for its migration routes), a Dom0 Client on each of
/// two real libvirtds (QEMU TCG) and the batch Client on a real Slurm controller. Two jobs for group A arrive
/// (the second after the first) → VEM creates the VM → the guest (scripts/build-guest-image) boots, starts
/// munged, `slurmd -Z` and `vem-agent` → its Client joins → its node is registered in Slurm → the first job runs
/// inside the guest and prints the guest's hostname and group on its serial console → the second job starts a
/// ticker (a counter every second, in a file in the guest and on the console) → the operator runs `vem host drain`
/// on the guest's host → the guest live-migrates to the other host while the job runs → the job ends when told
/// (a signal through Slurm, which reaches the guest on its new host), COMPLETED, its counter without a gap or a
/// restart → the queue empties → the VM is drained, removed from Slurm and destroyed. Prints its times.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RealGuestTests {
    static let a = SiteGroup(
        name: "atlas", share: 100, partition: "dynA", feature: "vemA", vcpus: 1, memoryMiB: 768, maxVMs: 1)
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
        migration = yes
        placement = spread

        """

    /// The second job: a ticker that writes 1, 2, 3… every second to a file in the guest and to the console
    /// (`MIGJOB <job> tick=<n>`) until SIGUSR1, then checks that the file holds 1…n without a gap and exits 0.
    static let tickerScript = #"""
        j=$SLURM_JOB_ID; f=/tmp/vem-ticks-$j; stop=0; i=0; trap 'stop=1' USR1
        echo "MIGJOB $j start host=$(hostname)" >/dev/console
        while [ $stop = 0 ]; do
          i=$((i+1)); echo $i >>$f; echo "MIGJOB $j tick=$i" >/dev/console
          [ $i -ge 900 ] && exit 3
          sleep 1
        done
        seq 1 $i | cmp -s - $f || exit 4
        echo "MIGJOB $j done ticks=$i" >/dev/console
        """#

    @Test func jobsForAGroupBootARealGuestThatJoinsRunsThemMovesWithItsJobOnHostDrainAndGoesAway() async throws {
        let start = ContinuousClock.now
        let site = try await Site.start(
            managerSettings: Self.managerSettings, groups: [Self.a], hostNames: ["dom0-1", "dom0-2"], hostCPUs: 2,
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

    /// Submits a job to group A's partition; returns its id.
    func submit(_ site: Site, _ arguments: [String]) async throws -> Int {
        let out = try await runTool(
            "/usr/bin/sbatch",
            ["--parsable", "-p", Self.a.partition, "--mem=100", "-c", "1", "-o", "/dev/null"] + arguments,
            environment: site.cluster.environment)
        let id = out.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return try #require(Int(id), "sbatch printed '\(out)'")
    }

    func cycle(_ site: Site, jobs: inout [Int]) async throws {
        let a = Self.a
        let batch = try site.cluster.batch()
        try await eventually("the Manager sees both Dom0 Clients and the batch Client", within: .seconds(60)) {
            let clients = try await site.vem(["clients", "--json"])
            return ["dom0-1", "dom0-2", "slurmctl"].allSatisfy { clients.contains("\"\($0)\"") } ? true : nil
        }
        #expect(try await site.domains().isEmpty)
        let submitted = ContinuousClock.now
        // The first job prints where it runs on the guest's serial console (its output file would stay in the
        // guest); the second, the ticker, starts when the first is done (max_vms = 1: one VM for both).
        let script = "g=$(tr ' ' '\\n' </proc/cmdline | sed -n 's/^vem.group=//p'); "
            + "echo \"REAL-GUEST-JOB host=$(hostname) group=$g\" | tee /dev/console"
        let job = try await submit(site, ["-J", "real", "--wrap", script])
        jobs.append(job)
        let ticker = try await submit(
            site, ["-J", "ticker", "--dependency=afterok:\(job)", "--wrap", Self.tickerScript])
        jobs.append(ticker)

        let (vm, source) = try await eventually("a VM of \(a.name) created", within: .seconds(60)) {
            try await site.domains().first { $0.value.group == a.name }.map { ($0.key, $0.value.host) }
        }
        let created = ContinuousClock.now
        print("real guest: \(vm) created on \(source) \(created - submitted) after the jobs' submission")
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
        print(
            "real guest: figures: boot→join \(joinedAt - created), join→first job done \(ran.at - joinedAt)")
        let printed = text().split(whereSeparator: \.isNewline).first { $0.contains("REAL-GUEST-JOB") } ?? "?"
        print("real guest: the job printed: \(printed)")

        let destination = source == "dom0-1" ? "dom0-2" : "dom0-1"
        try await drainUnderJob(site, vm: vm, job: ticker, from: source, to: destination, console: text)

        try await eventually("\(vm) destroyed", within: .seconds(60)) {
            try await site.domains()[vm] == nil ? true : nil
        }
        try await eventually("\(vm) removed from Slurm", within: .seconds(20)) {
            try await batch.nodeExists(vm) ? nil : true
        }
        print("real guest: figures: whole cycle (submit → VM gone) \(ContinuousClock.now - submitted)")
        // The domain is gone before the Dom0 Client's answer to vm.destroy reaches the Manager: wait for it.
        let lifecycle = [
            "vm.create done @\(source)", "slurm.register done @slurmctl", "vm.migrate done @\(source)",
            "slurm.drain done @slurmctl", "slurm.remove done @slurmctl", "vm.destroy done @\(destination)",
        ]
        var sent: [SentCommand] = []
        _ = try? await eventually("the commands about \(vm) done", within: .seconds(20)) { () -> Bool? in
            sent = try await Scenario(site: site, a: a, b: a).commands(about: vm)
            return sent.map { "\($0.name) \($0.state) @\($0.client)" } == lifecycle ? true : nil
        }
        #expect(sent.map { "\($0.name) \($0.state) @\($0.client)" } == lifecycle, "\(sent)")
    }

    /// While the ticker runs in the guest: `vem host drain SOURCE` (the operator API, as an admin runs it) moves
    /// the guest to `destination` by live migration, the ticker goes on there, then ends on SIGUSR1 (sent
    /// through Slurm) with its counter whole, and the job is COMPLETED on the VM's node.
    func drainUnderJob(
        _ site: Site, vm: String, job: Int, from source: String, to destination: String,
        console: () -> String
    ) async throws {
        let batch = try site.cluster.batch()
        func ticks() -> [Int] {
            console().split(whereSeparator: \.isNewline).compactMap { line in
                line.split(separator: " ").last.flatMap { word in
                    line.contains("MIGJOB \(job) tick=") ? Int(word.dropFirst("tick=".count)) : nil
                }
            }
        }
        let started = ContinuousClock.now
        try await eventually("the ticker running on \(vm), its VM active", within: .seconds(60)) { () -> Bool? in
            guard try await batch.readState().jobs.contains(where: { $0.id == job && $0.state == "RUNNING" }),
                !ticks().isEmpty
            else { return nil }
            let vms = try await Self.vms(site)
            return vms.contains { $0.name == vm && $0.stage == "active" && !$0.operationPending } ? true : nil
        }
        print("real guest: the ticker runs \(ContinuousClock.now - started) after the first job's end")

        // vem host drain SOURCE, as the operator types it.
        let drained = ContinuousClock.now
        let tickAtDrain = ticks().last ?? 0
        let out = try await site.vem(["host", "drain", source, "--json"])
        let report = try JSONDecoder().decode(Manager.ActionReport.self, from: Data(out.utf8))
        #expect(report.accepted && report.commands == 1 && report.operatorName.hasSuffix("@127.0.0.1"), "\(report)")
        try await eventually("\(vm) live-migrated to \(destination)", within: .seconds(150)) { () -> Bool? in
            let vms = try await Self.vms(site)
            return vms.contains { $0.name == vm && $0.host == destination && $0.migratingTo == nil } ? true : nil
        }
        let moved = ContinuousClock.now
        let tickAtMove = ticks().last ?? 0
        print(
            "real guest: figures: migration under the job (vem host drain → on \(destination)) \(moved - drained), "
                + "ticks \(tickAtDrain) → \(tickAtMove)")
        // Running on the destination's libvirtd, gone from the source's; the source takes no new VM.
        #expect(try await site.domains()[vm]?.host == destination)
        let left = try await site.hosts[source]?.connection().domains().filter { $0.instance != nil } ?? []
        #expect(left.isEmpty, "\(source) still has \(left.map(\.name))")
        let status = try JSONDecoder().decode(
            StatusReport.self, from: Data(try await site.vem(["status", "--json"]).utf8))
        #expect(status.drainedHosts == [source])
        // Journaled: the drain by the operator, the migration under the operator's name.
        let latest = try JSONDecoder().decode(
            Explained.self, from: Data(try await site.vem(["explain", "--json"]).utf8))
        #expect(
            latest.decisions.contains { $0.action == "vem host drain \(source)" && $0.trigger == report.operatorName })
        let decisions = try await Scenario(site: site, a: Self.a, b: Self.a).explain(vm)
        #expect(
            decisions.contains {
                $0.action == "migrate" && $0.trigger == report.operatorName
                    && $0.reason == "\(source) is being drained: live-migrated to \(destination)"
            }, "\(decisions.map { "\($0.trigger): \($0.action) (\($0.reason))" })")

        // The job goes on in the moved guest; then it is told to end, through Slurm (slurmctld → the guest's slurmd).
        try await eventually("the ticker ticking on \(destination)", within: .seconds(60)) {
            (ticks().last ?? 0) > tickAtMove ? true : nil
        }
        try await runTool(
            "/usr/bin/scancel", ["--batch", "--signal=USR1", "\(job)"], environment: site.cluster.environment)
        let finished = try await eventually("the ticker COMPLETED", within: .seconds(60)) { () -> SlurmJob? in
            let found = try await batch.readState().jobs.first { $0.id == job }
            if let found, !["PENDING", "RUNNING", "COMPLETING", "COMPLETED"].contains(found.state) {
                throw HarnessError("the ticker ended \(found.state): \(console().suffix(1500))")
            }
            return found?.state == "COMPLETED" ? found : nil
        }
        #expect(finished.nodes == [vm])
        let all = ticks()
        let lines = console().split(whereSeparator: \.isNewline)
        #expect(lines.filter { $0.contains("MIGJOB \(job) start host=\(vm)") }.count == 1, "restarted? \(all)")
        #expect(all == Array(1...max(all.count, 1)), "a gap or a restart: \(all)")
        #expect(lines.contains { $0.contains("MIGJOB \(job) done ticks=\(all.count)") }, "\(console().suffix(1500))")
        #expect(
            all.count > tickAtMove && tickAtMove >= tickAtDrain, "\(tickAtDrain) → \(tickAtMove) → \(all.count)")
        print("real guest: the ticker completed after \(all.count) ticks, \(tickAtMove - tickAtDrain) during the move")
    }

    /// `vem vms --json`.
    static func vms(_ site: Site) async throws -> [VMReport] {
        try JSONDecoder().decode([VMReport].self, from: Data(try await site.vem(["vms", "--json"]).utf8))
    }
}
