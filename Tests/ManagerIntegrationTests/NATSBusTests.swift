import Foundation
import Testing
import VEMManager
import VEMNATS
import VEMTestKit

/// `bus = nats` end to end: a real nats-server with the accounts `vem nats-config` writes, `vem manager` and
/// `vem agent` as processes, each logging in as its own NATS user with its password file.
@Suite struct NATSBusTests {
    @Test(.timeLimit(.minutes(2)))
    func theManagerAndAnAgentTalkOverNATS() async throws {
        let dir = try scratchDirectory("nats-bus")
        defer { try? FileManager.default.removeItem(at: dir) }
        let accounts = try NATSAccountsConfig(site: "s1", clients: [.init(name: "h1")])
        let server = try await NATSServerProcess.start(name: "n1", body: accounts.text, directory: dir.path)
        for user in ["manager", "sys", "h1"] {
            try accounts.password(user).write(
                to: dir.appendingPathComponent("\(user).pw"), atomically: true, encoding: .utf8)
        }
        let property = """
            [ram_free]
            command = ram
            parameters = MemFree
            return_type = int
            ticks = 60
            """
        try """
            [manager]
            bus = nats
            site = s1
            nats_url = \(server.url)
            nats_password_file = manager.pw
            nats_system_password_file = sys.pw
            heartbeat_interval = 1s
            http_listen = 127.0.0.1:0
            journal = \(dir.path)/journal.sqlite

            \(property)

            [fast_query]
            expr = { len(manager.clients) != 0 }
            cmd = { sender.send_get_property() }
            ticks = 1
            """.write(to: dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)
        try """
            [client]
            name = h1
            role = dom0
            bus = nats
            site = s1
            nats_url = \(server.url)
            nats_password_file = \(dir.path)/h1.pw
            heartbeat_interval = 1s

            \(property)
            """.write(to: dir.appendingPathComponent("agent.ini"), atomically: true, encoding: .utf8)

        let portFile = dir.appendingPathComponent("ports.json")
        let manager = try Daemon.start(
            ["manager", "-c", "site.ini", "--port-file", portFile.path], in: dir,
            stdout: dir.appendingPathComponent("manager.out"), stderr: dir.appendingPathComponent("manager.err"))
        let agent = try Daemon.start(
            ["agent", "-c", "agent.ini"], in: dir, stdout: dir.appendingPathComponent("agent.out"),
            stderr: dir.appendingPathComponent("agent.err"))
        defer {
            if !agent.hasExited { kill(agent.pid, SIGKILL) }
            if !manager.hasExited { kill(manager.pid, SIGKILL) }
        }
        let ports = try #require(await waitForPorts(portFile, manager: manager))
        #expect(ports.hub == 0)
        let env = ["VEM_MANAGER_URL": "http://127.0.0.1:\(ports.http)"]

        // The agent joins over NATS and its property comes back to the Manager's trigger.
        let rows = try await poll("h1's ram_free over NATS (agent: \(agent.stderr))", seconds: 40) { () -> [PropertyRow]? in
            let out = try await runVEM(["props", "--json"], in: dir, environment: env)
            let rows = (try? JSONDecoder().decode([PropertyRow].self, from: Data(out.stdout.utf8))) ?? []
            return rows.contains { $0.client == "h1" && $0.name == "ram_free" && $0.value != nil } ? rows : nil
        }
        #expect(rows != nil)
        let status = try await runVEM(["status"], in: dir, environment: env)
        #expect(status.stdout.contains("nats \(server.url) site s1"), "\(status.stdout)")

        // SIGTERM: the agent says bye; the Manager sees it leave.
        await agent.stop()
        _ = try await poll("h1 gone") { () -> Bool? in
            let out = try await runVEM(["clients", "--json"], in: dir, environment: env)
            let clients = (try? JSONDecoder().decode([ClientReport].self, from: Data(out.stdout.utf8))) ?? []
            return clients.contains { $0.name == "h1" && !$0.connected } ? true : nil
        }
        await manager.stop()
        await server.stop()
    }
}
