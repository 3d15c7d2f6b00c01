import Foundation
import Testing
import VEMTestSupport

/// What an agent says at info level when things around it are missing (issue 20's walk-through): a Manager it
/// cannot reach is reported (first attempt, then with back-off), and libxml2's own warnings about a hypervisor
/// file that does not exist do not leak onto standard error (libvirt's error says it, once, in the log's words).
@Suite("vem agent at info level")
struct AgentQuietTests {
    @Test("an unreachable Manager is logged at info level; libxml2's I/O warning does not leak")
    func unreachableManagerAndMissingHypervisorFile() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vem-agent-quiet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("agent.ini").path
        // Port 1 on loopback: nothing listens, every connection is refused at once.
        try """
            [client]
            name = lonely
            role = dom0
            manager = 127.0.0.1:1
            hypervisor = test://\(dir.path)/missing-host.xml
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let agent = try await AgentProcess.start(
            config: config, logPath: dir.appendingPathComponent("log").path, logLevel: "info")
        defer { Task { await agent.stop() } }
        try await eventually("two reports of the unreachable Manager and a hypervisor failure", within: 60) {
            agent.log.contains("attempt=2") && agent.log.contains("cannot watch the hypervisor's events")
        }
        await agent.stop()
        let log = agent.log
        #expect(log.contains("info vem.agent: attempt=1") && log.contains("cannot reach the Manager"), "\(log)")
        #expect(log.contains("manager=127.0.0.1:1"))
        #expect(log.contains("failed to parse xml document"), "\(log)")  // libvirt's error, in the log
        #expect(!log.contains("I/O warning"), "\(log)")
        #expect(!log.contains("external entity"), "\(log)")
    }
}
