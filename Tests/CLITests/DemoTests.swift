import Foundation
import Testing

@Suite struct DemoTests {
    /// The demo's length is wall time by design (`--seconds 1.5`); that it ends is guarded by the time limit, not by
    /// a wall-clock assertion (22.8 s was seen for this debug build's whole run with the machine fully loaded).
    @Test(.timeLimit(.minutes(1))) func theDemoPrintsTablesThenASummaryBesideTheStaticLayout() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("burst.swf")
        try SimulateTests.burst.write(to: trace, atomically: true, encoding: .utf8)
        let out = try await runVEM([
            "demo", "--trace", trace.path, "--window", "0:1d", "--sample", "1", "--hosts", "1", "--cpus-per-host", "4",
            "--seconds", "1.5", "--every", "0.5", "--simulated",
        ])
        #expect(out.status == 0, "\(out.stderr)")
        // Not a terminal: a new table block every 0.5 s, no cursor movement.
        let blocks = out.stdout.components(separatedBy: "group  share  pending  running  booting  active  draining")
        #expect(blocks.count >= 3)
        #expect(!out.stdout.contains("\u{1B}["))
        #expect(out.stdout.contains("create g1-vm-4 on host1: g1 has 4 pending CPUs and 3/4 VMs of its target"))
        #expect(out.stdout.contains("every job done"))
        // The same figures as `vem simulate` on this burst: g1 waits 8m20s on average on its static half of the
        // host (bounded slowdown 1.5), 1 min with the pool (1.06).
        let summary = try #require(out.stdout.components(separatedBy: "summary after").last)
        let g1 = try #require(summary.split(separator: "\n").first { $0.hasPrefix("g1 ") })
        let cells = g1.split(separator: " ", omittingEmptySubsequences: true)
        #expect(cells == ["g1", "50%", "4", "8m20s", "16m40s", "1.5", "2", "1m", "1m", "1.1", "4"])
        #expect(summary.contains("VMs created 5"))
        #expect(summary.contains("shorter with the pool"))
    }

    @Test func overTheInProcessSiteTheSameBurstGoesThroughTheBus() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("burst.swf")
        try SimulateTests.burst.write(to: trace, atomically: true, encoding: .utf8)
        // Two hours of trace in 4 s (×1800): a millisecond of wall time is 1.8 simulated seconds. The Manager runs
        // on that clock: vem.poll every 30 simulated seconds, vem.rebalance on the replies and every minute.
        let out = try await runVEM([
            "demo", "--trace", trace.path, "--window", "0:2h", "--sample", "1", "--hosts", "1", "--cpus-per-host", "4",
            "--seconds", "4", "--every", "1", "--decisions", dir.appendingPathComponent("decisions.log").path,
        ])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("in one process over loopback TCP: the Manager"))
        let summary = try #require(out.stdout.components(separatedBy: "summary after").last)
        #expect(summary.contains("every job done"))
        #expect(summary.contains("VMs created 5"))
        #expect(summary.contains("failed operations 0"))
        #expect(summary.contains("jobs lost 0"))
        // The demo's clock waits for the Manager: its view of the queues never got older than two poll
        // intervals (a collection every 30 s, read by a poll every 30 s), however busy the machine.
        let viewLine = try #require(summary.split(separator: "\n").first { $0.hasPrefix("manager view") })
        let intervals = try #require(
            viewLine.components(separatedBy: " poll intervals").first?.split(separator: "(").last.flatMap { Double($0) })
        #expect(intervals <= 2.0, "\(viewLine)")
        #expect(!viewLine.contains("let go"), "\(viewLine)")
        #expect(summary.contains("(pool) vs") && summary.contains("(static)"), "a verdict line compares the layouts")
        // The real Manager made the decisions: its vem.rebalance trigger, journaled with their reasons.
        #expect(summary.contains("rebalances (trigger vem.rebalance)"))
        #expect(summary.contains("[vem.rebalance]"))
        let log = try String(contentsOf: dir.appendingPathComponent("decisions.log"), encoding: .utf8)
        #expect(log.contains("register g1-vm-4 on host1: its Client joined"))
        #expect(log.components(separatedBy: " create ").count - 1 == 5)
    }

    @Test func withoutATraceTheDemoUsesItsBuiltInWorkload() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // In a directory where no LCG trace is found, with VEM_TRACE unset: the synthetic workload.
        let cwd = dir.appendingPathComponent("a/b")  // no ../shared/traces from here
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let out = try await runVEM(["demo", "--seconds", "1", "--every", "0.5", "--simulated"], currentDirectory: cwd)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("built-in synthetic bursts"))
        #expect(out.stdout.contains("atlas"))
        #expect(out.stdout.contains("summary after"))
    }
}
