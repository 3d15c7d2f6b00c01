import Foundation
import Testing

/// `vem demo --http`: the in-process site's Manager serves its dashboard and `/metrics` while the demo runs.
@Suite struct DemoDashboardTests {
    @Test func theDemoServesItsDashboardAndSaysWhere() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("burst.swf")
        try SimulateTests.burst.write(to: trace, atomically: true, encoding: .utf8)
        let out = try await runVEM([
            "demo", "--trace", trace.path, "--window", "0:1d", "--sample", "1", "--hosts", "1", "--cpus-per-host", "4",
            "--seconds", "1.5", "--tail-seconds", "1", "--max-seconds", "20", "--every", "0.5", "--hypervisor",
            "stand-in", "--http", "0",
        ])
        #expect(out.status == 0, "\(out.stderr)")
        let line = out.stderr.split(separator: "\n").first { $0.hasPrefix("dashboard: http://127.0.0.1:") }
        #expect(line != nil, "\(out.stderr)")
        #expect(line.map { !$0.hasSuffix(":0/") } == true)
    }

    @Test func thereIsNoDashboardWithoutAManager() async throws {
        let out = try await runVEM(["demo", "--simulated", "--http", "0"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("--http"))
    }
}
