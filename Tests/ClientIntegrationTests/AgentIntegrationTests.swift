import Foundation
import Synchronization
import Testing
import VEMTestSupport
import VEMBus
import VEMHub
import VEMProtocol

/// A Manager-side harness: a real hub server on port 0 in the test process, recording its events.
final class ManagerHarness: Sendable {
    let server: HubServer
    let port: Int
    let events = Mutex<[BusEvent]>([])
    private let consumer = Mutex<Task<Void, Never>?>(nil)

    init(token: String, port: Int = 0) async throws {
        let configuration = HubConfiguration(
            host: "127.0.0.1", port: port,
            engine: .init(admission: Admission(sharedToken: token), heartbeatInterval: .seconds(2)))
        server = HubServer(configuration: configuration)
        self.port = try await server.start()
        let stream = server.events
        consumer.withLock { $0 = Task { [self] in for await e in stream { self.events.withLock { $0.append(e) } } } }
    }

    /// The joins of a Client, in order.
    func joins(_ name: String) -> [ClientIdentity] {
        events.withLock { events in
            events.compactMap { if case .join(let id, _) = $0, id.name == name { return id } else { return nil } }
        }
    }

    func count(where predicate: (BusEvent) -> Bool) -> Int { events.withLock { $0.filter(predicate).count } }

    func shutdown() async {
        await server.shutdown()
        consumer.withLock { $0 }?.cancel()
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass (generous: it only matters when a test fails, and
/// CPU-bound tests elsewhere in the suite can stall the cooperative pool for seconds).
func eventually(_ what: String, within seconds: Double = 60, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

@Suite("vem agent: two real Client processes against a real hub")
struct AgentIntegrationTests {
    /// MemFree may move between two of the sampler's reads (2 ms apart, later under load): allow 64 MiB, the
    /// memory a process can fault in during a few tens of milliseconds at a few GB/s.
    static let toleranceKB: Int64 = 64 * 1024

    func agentConfig(name: String, port: Int, tokenLine: String) -> String {
        """
        [client]
        name = \(name)
        role = dom0
        manager = 127.0.0.1:\(port)
        heartbeat_interval = 2s
        \(tokenLine)
        allow = exec
        exec_allow = /bin/echo, /bin/sleep

        [ram_free]
        command = ram
        parameters = MemFree
        return_type = int
        ticks = 60
        """
    }

    @Test("ram_free, exec, refusal, and a new incarnation after SIGKILL and restart")
    func twoAgents() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vem-agents-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let manager = try await ManagerHarness(token: "t0k3n")
        var agents: [AgentProcess] = []
        do {
            try await scenario(dir: dir, manager: manager, agents: &agents)
        } catch {
            for a in agents { print("--- agent \(a.pid) log:\n\(a.log)") }
            for a in agents { await a.stop() }
            await manager.shutdown()
            throw error
        }
        for a in agents { await a.stop() }
        await manager.shutdown()
    }

    private func scenario(dir: URL, manager: ManagerHarness, agents: inout [AgentProcess]) async throws {
        let tokenFile = dir.appendingPathComponent("token").path
        try "t0k3n\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let configA = dir.appendingPathComponent("a.ini").path
        let configB = dir.appendingPathComponent("b.ini").path
        try agentConfig(name: "agent-a", port: manager.port, tokenLine: "token_file = \(tokenFile)")
            .write(toFile: configA, atomically: true, encoding: .utf8)
        try agentConfig(name: "agent-b", port: manager.port, tokenLine: "token = t0k3n")
            .write(toFile: configB, atomically: true, encoding: .utf8)

        // MemFree is sampled from before the agents start until their answers arrive: the value they report was
        // read somewhere in that window (collected at start-up or on demand).
        let sampler = MemFreeSampler()
        let before = try #require(MemFreeSampler.read())
        let a = try await AgentProcess.start(config: configA, logPath: dir.appendingPathComponent("a.log").path)
        agents.append(a)
        let b = try await AgentProcess.start(config: configB, logPath: dir.appendingPathComponent("b.log").path)
        agents.append(b)
        try await eventually("both joins") { !manager.joins("agent-a").isEmpty && !manager.joins("agent-b").isEmpty }

        let round = await manager.server.collectProperties(["ram_free"], from: .all, timeout: .seconds(60))
        let after = try #require(MemFreeSampler.read())
        let window = await sampler.finish()
        #expect(round.missing.isEmpty)
        let low = min(before, after, window.min) - Self.toleranceKB
        let high = max(before, after, window.max) + Self.toleranceKB
        for name in ["agent-a", "agent-b"] {
            let reading = try #require(round.replies[name]?.readings.first { $0.name == "ram_free" })
            guard case .value(.int(let kB)) = reading.outcome else {
                Issue.record("\(name): ram_free is \(reading.outcome)")
                continue
            }
            #expect(kB >= low && kB <= high, "\(name): \(kB) kB outside [\(low), \(high)] (\(window.samples) samples)")
            print(
                "\(name): ram_free \(kB) kB; MemFree ranged \(window.min)…\(window.max) kB over \(window.samples) samples"
            )
        }

        // An allowlisted exec runs and returns its output; anything else is refused.
        let echo = try manager.server.submit(
            "exec", arguments: [NamedValue("", .string("/bin/echo")), NamedValue("", .string("hello"))], to: "agent-a")
        let cat = try manager.server.submit(
            "exec", arguments: [NamedValue("", .string("/bin/cat")), NamedValue("", .string("/etc/hostname"))],
            to: "agent-a")
        let reboot = try manager.server.submit("reboot", arguments: [], to: "agent-b")
        guard case .result(let echoResult) = await echo.outcome(), case .result(let catResult) = await cat.outcome(),
            case .result(let rebootResult) = await reboot.outcome()
        else {
            Issue.record("a command has no result")
            return
        }
        #expect(echoResult.status == .ok && echoResult.output == "hello\n" && echoResult.exitCode == 0)
        #expect(catResult.status == .refused)
        #expect(catResult.error?.contains("/bin/cat") == true)
        #expect(rebootResult.status == .refused)
        #expect(rebootResult.error?.contains("'reboot' is not in this client's allowlist") == true)

        // A command longer than the Manager's heartbeat timeout (1.5 × 2 s) does not stall heartbeats: no
        // disconnect while it runs. (2 s rather than less: on a loaded 2-core machine a debug-built agent can miss a
        // sub-second deadline for reasons that have nothing to do with commands.)
        func disconnects(_ name: String) -> Int {
            manager.count { if case .disconnect(let n, _) = $0 { n == name } else { false } }
        }
        let disconnectsBefore = disconnects("agent-a")
        let slow = try manager.server.submit(
            "exec", arguments: [NamedValue("", .string("/bin/sleep")), NamedValue("", .string("3.5"))], to: "agent-a")
        if case .result(let r) = await slow.outcome() { #expect(r.status == .ok) } else { Issue.record("no result") }
        #expect(disconnects("agent-a") == disconnectsBefore)

        // SIGKILL agent-b: the Manager sees it disconnect (its socket closes), then a restart joins with a new
        // incarnation.
        let firstIncarnation = try #require(manager.joins("agent-b").first).incarnation
        let bDisconnects = disconnects("agent-b")
        let killedAt = ContinuousClock.now
        b.signal(SIGKILL)
        try await eventually("agent-b's disconnect") { disconnects("agent-b") > bDisconnects }
        print("agent-b disconnect seen after \(ContinuousClock.now - killedAt)")
        let b2 = try await AgentProcess.start(config: configB, logPath: dir.appendingPathComponent("b2.log").path)
        agents.append(b2)
        try await eventually("agent-b's join with a new incarnation") {
            manager.joins("agent-b").contains { $0.incarnation != firstIncarnation }
        }
        let after2 = try manager.server.submit(
            "exec", arguments: [NamedValue("", .string("/bin/echo")), NamedValue("", .string("again"))], to: "agent-b")
        if case .result(let r) = await after2.outcome() {
            #expect(r.output == "again\n")
        } else {
            Issue.record("no result")
        }

        // SIGINT and SIGTERM: the agent says bye (a leave, not a disconnect) and exits 0.
        b2.signal(SIGINT)
        #expect(await b2.waitForExit(seconds: 10) == 0)
        try await eventually("agent-b's leave") {
            manager.count { if case .leave(let n, _) = $0 { n == "agent-b" } else { false } } == 1
        }
        a.signal(SIGTERM)
        #expect(await a.waitForExit(seconds: 10) == 0)
        try await eventually("agent-a's leave") {
            manager.count { if case .leave(let n, _) = $0 { n == "agent-a" } else { false } } == 1
        }
    }

    @Test("a broken file stops vem agent at start with file:line:col and exit status 1")
    func brokenConfiguration() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vem-agent-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("agent.ini").path
        try "[client]\nname = x\n\n[ram_free]\ncommand = ram\nticks = often\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let agent = try await AgentProcess.start(config: config, logPath: dir.appendingPathComponent("log").path)
        let status = await agent.waitForExit(seconds: 20)
        if status == nil { await agent.stop() }
        #expect(status == 1)
        #expect(agent.log.contains("agent.ini:6:9: error: invalid value 'often' for 'ticks'"))

        let nats = dir.appendingPathComponent("nats.ini").path
        try "[client]\nname = x\nbus = nats\n".write(toFile: nats, atomically: true, encoding: .utf8)
        let natsAgent = try await AgentProcess.start(config: nats, logPath: dir.appendingPathComponent("log2").path)
        let natsStatus = await natsAgent.waitForExit(seconds: 20)
        if natsStatus == nil { await natsAgent.stop() }
        #expect(natsStatus == 1)
        #expect(natsAgent.log.contains("nats.ini:1:1: error: bus = nats needs 'site'"), "\(natsAgent.log)")
    }

    @Test("an agent keeps going across a Manager restart: it rejoins the new Manager with the same incarnation")
    func managerRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vem-agent-mr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try await ManagerHarness(token: "t0k3n")
        let config = dir.appendingPathComponent("c.ini").path
        try agentConfig(name: "agent-c", port: first.port, tokenLine: "token = t0k3n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let agent = try await AgentProcess.start(config: config, logPath: dir.appendingPathComponent("log").path)
        var second: ManagerHarness?
        do {
            try await eventually("the first join") { !first.joins("agent-c").isEmpty }
            let incarnation = first.joins("agent-c")[0].incarnation
            await first.shutdown()
            #expect(agent.status == nil, "the agent must survive the Manager going away")
            let restarted = try await ManagerHarness(token: "t0k3n", port: first.port)
            second = restarted
            try await eventually("the join on the restarted Manager") { !restarted.joins("agent-c").isEmpty }
            #expect(restarted.joins("agent-c")[0].incarnation == incarnation)
            let pending = try restarted.server.submit(
                "exec", arguments: [NamedValue("", .string("/bin/echo")), NamedValue("", .string("back"))],
                to: "agent-c")
            if case .result(let r) = await pending.outcome() {
                #expect(r.output == "back\n")
            } else {
                Issue.record("no result")
            }
            let round = await restarted.server.collectProperties(["ram_free"], from: .all, timeout: .seconds(60))
            #expect(round.replies["agent-c"]?.readings.count == 1)
        } catch {
            print("--- agent log:\n\(agent.log)")
            await agent.stop()
            await second?.shutdown()
            throw error
        }
        await agent.stop()
        await second?.shutdown()
    }
}
