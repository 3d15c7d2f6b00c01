import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `vem manager` as a real process: it starts with no periodic trigger, stops at once on SIGTERM, and a second
/// Manager on the same journal refuses to start.
@Suite struct ManagerLifecycleTests {
    /// A Manager in `dir` on `site` (written to `site.ini`), with its port file.
    static func start(_ site: String, in dir: URL, label: String = "manager") async throws -> (Daemon, Ports) {
        try site.write(to: dir.appendingPathComponent("\(label).ini"), atomically: true, encoding: .utf8)
        let portFile = dir.appendingPathComponent("\(label).ports")
        let manager = try Daemon.start(
            ["manager", "-c", "\(label).ini", "--port-file", portFile.path], in: dir,
            stdout: dir.appendingPathComponent("\(label).out"), stderr: dir.appendingPathComponent("\(label).err"))
        guard let ports = await waitForPorts(portFile, manager: manager) else {
            kill(manager.pid, SIGKILL)
            throw CancellationError()
        }
        return (manager, ports)
    }

    /// `vem status` answers (the Manager is up and serving).
    static func expectStatus(_ ports: Ports, in dir: URL) async throws {
        let out = try await runVEM(
            ["status"], in: dir, environment: ["VEM_MANAGER_URL": "http://127.0.0.1:\(ports.http)"])
        #expect(out.status == 0, "vem status: \(out.stderr)")
    }

    /// Legal sites with no periodic trigger used to crash the Manager at start (TriggerWatch slept until
    /// `.infinity`): a `[manager]` with no groups, and `default_triggers = no` with only an on-update trigger.
    @Test(arguments: [
        "",
        """
        default_triggers = no

        [group:atlas]
        share = 100

        [on_update]
        expr = { True }
        cmd = { log("update") }
        on_update_check = yes
        """,
    ])
    func aManagerWithoutAPeriodicTriggerRunsAndStops(_ rest: String) async throws {
        let dir = try scratchDirectory("noperiodic")
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = "[manager]\nlisten = 127.0.0.1:0\nhttp_listen = 127.0.0.1:0\n" + rest + "\n"
        let (manager, ports) = try await Self.start(site, in: dir)
        defer { if !manager.hasExited { kill(manager.pid, SIGKILL) } }
        try await Self.expectStatus(ports, in: dir)
        #expect(!manager.hasExited, "the manager died: \(manager.stderr)")
        await manager.stop(SIGTERM)
        #expect(await manager.waitForExit() == 0, "\(manager.stderr)")
        #expect(!manager.stderr.contains("Fatal error"), "\(manager.stderr)")
    }

    /// SIGTERM stops the Manager at once, not at its next trigger tick: measured against the tick, the stop
    /// takes well under half of it (before, it waited out the tick: a whole minute here).
    @Test func sigtermStopsTheManagerBeforeItsNextTick() async throws {
        let dir = try scratchDirectory("sigterm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tick = 60.0
        let site = """
            [manager]
            listen = 127.0.0.1:0
            http_listen = 127.0.0.1:0

            [slow]
            expr = { True }
            cmd = { log("tick") }
            ticks = \(Int(tick))
            """
        let (manager, ports) = try await Self.start(site, in: dir)
        defer { if !manager.hasExited { kill(manager.pid, SIGKILL) } }
        try await Self.expectStatus(ports, in: dir)
        let sent = ContinuousClock.now
        await manager.stop(SIGTERM)
        let elapsed = ContinuousClock.now - sent
        #expect(await manager.waitForExit() == 0, "\(manager.stderr)")
        #expect(elapsed < .seconds(tick / 2), "the manager took \(elapsed) to stop (its tick is \(tick) s)")
    }

    /// A second Manager on the same journal refuses to start before it recovers anything, naming the first's PID;
    /// once the first is killed, its lock is gone with it and a new Manager starts on the journal.
    @Test func aSecondManagerOnTheSameJournalRefusesToStart() async throws {
        let dir = try scratchDirectory("lock")
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = """
            [manager]
            listen = 127.0.0.1:0
            http_listen = 127.0.0.1:0
            journal = \(dir.path)/journal.sqlite
            """
        let (first, ports) = try await Self.start(site, in: dir, label: "first")
        defer { if !first.hasExited { kill(first.pid, SIGKILL) } }
        try site.write(to: dir.appendingPathComponent("second.ini"), atomically: true, encoding: .utf8)
        let second = try await runVEM(["manager", "-c", "second.ini"], in: dir)
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use by the Manager with PID \(first.pid)"), "\(second.stderr)")
        #expect(!second.stderr.contains("journal recovered"), "\(second.stderr)")
        try await Self.expectStatus(ports, in: dir)
        #expect(!first.hasExited, "the first manager died: \(first.stderr)")

        await first.stop(SIGKILL)
        let (third, thirdPorts) = try await Self.start(site, in: dir, label: "third")
        defer { if !third.hasExited { kill(third.pid, SIGKILL) } }
        try await Self.expectStatus(thirdPorts, in: dir)
        await third.stop(SIGTERM)
        #expect(await third.waitForExit() == 0, "\(third.stderr)")
    }
}
