import Foundation
import Testing

@Suite struct SimulateTests {
    /// Group 1 bursts (4 jobs of 1000 s at t=0) while group 2 is idle until one job at t=2000 (4000 s): equal CPU
    /// time, so equal shares.
    static let burst = """
        ; a hand-made burst
        1 0 -1 1000 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1
        2 0 -1 1000 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1
        3 0 -1 1000 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1
        4 0 -1 1000 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1
        5 2000 -1 4000 1 -1 -1 1 -1 -1 1 2 2 -1 -1 -1 -1 -1
        """

    @Test func theDynamicPoolBeatsStaticPartitionsOnABurst() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("burst.swf")
        try Self.burst.write(to: trace, atomically: true, encoding: .utf8)
        let arguments = [
            "simulate", "--trace", trace.path, "--groups", "2", "--names", "a,b", "--window", "0:1d", "--hosts", "2",
            "--cpus-per-host", "2", "--sample", "1", "--max-booting", "4",
        ]
        let out = try await runVEM(arguments + ["--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let comparison = try #require(object["comparison"] as? [String: Any])
        func line(_ layout: String, _ group: String) -> [String: Any]? {
            let report = comparison[layout] as? [String: Any]
            if group == "*" { return report?["total"] as? [String: Any] }
            return (report?["groups"] as? [[String: Any]])?.first { $0["group"] as? String == group }
        }
        // a's 4 VMs are kept idle after its jobs: at b's first planner step (2040) one is destroyed for b, whose
        // VM is created at 2100 and joins at 2160.
        #expect(line("dynamic", "a")?["meanWait"] as? Double == 60)
        #expect(line("dynamic", "b")?["meanWait"] as? Double == 160)
        #expect(line("dynamic", "*")?["meanWait"] as? Double == 80)
        #expect(line("ideal", "*")?["meanWait"] as? Double == 0)
        #expect(line("staticLayout", "a")?["meanWait"] as? Double == 500)
        #expect(line("staticLayout", "a")?["p95Wait"] as? Int == 1000)
        #expect(line("staticLayout", "*")?["meanWait"] as? Double == 400)
        #expect(
            (comparison["dynamic"] as? [String: Any])?["counters"].flatMap { ($0 as? [String: Any])?["created"] }
                as? Int == 5)

        let text = try await runVEM(arguments)
        #expect(text.status == 0)
        #expect(text.stdout.contains("dynamic pool"))
        #expect(text.stdout.contains("static partitions"))
        #expect(text.stdout.contains("shorter with the pool"))
    }

    @Test func badWindowsAndDurationsAreRefused() async throws {
        let out = try await runVEM(["simulate", "--trace", "/nonexistent.swf", "--window", "3d"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("START:DURATION"))
        let tick = try await runVEM(["simulate", "--trace", "/nonexistent.swf", "--tick", "soon"])
        #expect(tick.status != 0)
        #expect(tick.stderr.contains("--tick"))
        let missing = try await runVEM(["simulate", "--trace", "/nonexistent.swf"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent.swf"))
    }
}
