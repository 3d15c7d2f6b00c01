import Foundation
import Testing
import VEMManager

/// `vem manager` as a real process with real Clients over TCP, seen through the operator's commands.
@Suite struct OperatorCLITests {
    @Test func theOperatorCommandsShowARunningManager() async throws {
        let dir = try scratchDirectory("operator")
        defer { try? FileManager.default.removeItem(at: dir) }
        let paper = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/paper.ini"), encoding: .utf8)
        let site = paper + """

            [manager]
            listen = 127.0.0.1:0
            http_listen = 127.0.0.1:0
            journal = \(dir.path)/journal.sqlite

            [fast_query]
            expr = { len(manager.clients) != 0 }
            cmd = { sender.send_get_property() }
            ticks = 1

            [broken]
            expr = { manager.clients[5].name == "x" }
            cmd = { log("never") }
            ticks = 1

            [hello]
            expr = { len([c for c in manager.clients if c.role == "domU"]) > 0 }
            cmd = { [sender.send_command(c, "greet") for c in manager.clients if c.role == "domU"] }
            ticks = 1
            """
        try site.write(to: dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)
        let portFile = dir.appendingPathComponent("ports.json")
        let manager = try Daemon.start(
            ["manager", "-c", "site.ini", "--port-file", portFile.path], in: dir,
            stdout: dir.appendingPathComponent("manager.out"), stderr: dir.appendingPathComponent("manager.err"))
        var clients: [Daemon] = []
        defer {
            for client in clients where !client.hasExited { kill(client.pid, SIGKILL) }
            if !manager.hasExited { kill(manager.pid, SIGKILL) }
        }
        let ports = try #require(await waitForPorts(portFile, manager: manager))
        for (name, role, ram) in [("h1", "dom0", 5000), ("vm1", "domU", 300)] {
            clients.append(
                try Daemon.start(
                    [
                        "manager-test-client", "--connect", "127.0.0.1:\(ports.hub)", "--name", name, "--role", role,
                        "--log", dir.appendingPathComponent("\(name).log").path, "--property", "ram_free=\(ram)",
                    ], in: dir, stdout: dir.appendingPathComponent("\(name).out"),
                    stderr: dir.appendingPathComponent("\(name).err")))
        }
        let env = ["VEM_MANAGER_URL": "http://127.0.0.1:\(ports.http)"]

        // Both Clients connected and their properties collected (fast_query asks every second).
        _ = try await poll("both clients' properties") { () -> Bool? in
            let out = try await runVEM(["props", "--json"], in: dir, environment: env)
            guard out.status == 0, let rows = try? JSONDecoder().decode([PropertyRow].self, from: Data(out.stdout.utf8))
            else { return nil }
            return rows.count == 2 ? true : nil
        }
        // A site without groups has no pool.
        let vmsOut = try await runVEM(["vms"], in: dir, environment: env)
        #expect(vmsOut.status == 0 && vmsOut.stdout == "no VMs\n", "\(vmsOut.stdout)\(vmsOut.stderr)")
        let clientsOut = try await runVEM(["clients"], in: dir, environment: env)
        #expect(clientsOut.status == 0, "\(clientsOut.stderr)")
        #expect(clientsOut.stdout.contains("h1") && clientsOut.stdout.contains("vm1"))
        #expect(clientsOut.stdout.contains("connected"))
        let clientsJSON = try JSONDecoder().decode(
            [ClientReport].self, from: Data(try await runVEM(["clients", "--json"], in: dir, environment: env).stdout.utf8))
        #expect(clientsJSON.map(\.role).sorted() == ["dom0", "domU"])

        let props = try await runVEM(["props", "vm1", "--manager-url", "http://127.0.0.1:\(ports.http)"], in: dir)
        #expect(props.status == 0)
        #expect(props.stdout.contains("ram_free") && props.stdout.contains("300") && !props.stdout.contains("5000"))
        // A name the Manager does not know: exit 1, saying so and what it knows.
        let noClient = try await runVEM(["props", "nosuch"], in: dir, environment: env)
        #expect(noClient.status == 1 && noClient.stdout.isEmpty)
        #expect(
            noClient.stderr.contains("no Client named 'nosuch'") && noClient.stderr.contains("h1, vm1"),
            "\(noClient.stderr)")
        let noVM = try await runVEM(["explain", "nosuchvm"], in: dir, environment: env)
        #expect(noVM.status == 1 && noVM.stderr.contains("no VM or group named 'nosuchvm'"), "\(noVM.stderr)")
        let knownVM = try await runVEM(["explain", "vm1"], in: dir, environment: env)
        #expect(knownVM.status == 0 && knownVM.stdout.contains("decisions about vm1:"), "\(knownVM.stderr)")

        // A command from the `hello` trigger, traced to it.
        _ = try await poll("a greet command done") { () -> Bool? in
            let out = try await runVEM(["commands", "--json"], in: dir, environment: env)
            let rows = (try? JSONDecoder().decode([CommandRecord].self, from: Data(out.stdout.utf8))) ?? []
            return rows.contains { $0.name == "greet" && $0.state == .done && $0.trigger == "hello" } ? true : nil
        }
        let commands = try await runVEM(["commands"], in: dir, environment: env)
        #expect(commands.stdout.contains("greet") && commands.stdout.contains("hello") && commands.stdout.contains("done"))

        let triggers = try await runVEM(["triggers"], in: dir, environment: env)
        #expect(triggers.status == 0)
        #expect(triggers.stdout.contains("client_query") && triggers.stdout.contains("fast_query"))
        #expect(triggers.stdout.contains("broken: last error"))
        let triggerStats = try JSONDecoder().decode(
            [TriggerStats].self, from: Data(try await runVEM(["triggers", "--json"], in: dir, environment: env).stdout.utf8))
        #expect((triggerStats.first { $0.name == "broken" }?.errors ?? 0) > 0)
        #expect((triggerStats.first { $0.name == "fast_query" }?.fired ?? 0) > 0)

        let status = try await runVEM(["status"], in: dir, environment: env)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("1 dom0, 1 domU"))
        // Uptime in human units: seconds with one decimal under a minute, not `(5458ms)`.
        let uptime = status.stdout.range(of: #"UTC \((\d+\.\ds|\d+m\d+s)\)"#, options: .regularExpression)
        #expect(uptime != nil, "\(status.stdout)")
        #expect(status.stdout.contains("trigger:broken"))
        let statusJSON = try JSONDecoder().decode(
            StatusReport.self, from: Data(try await runVEM(["status", "--json"], in: dir, environment: env).stdout.utf8))
        #expect(statusJSON.connectedByRole["dom0"] == 1)

        // vem snapshot > state.json; vem eval --snapshot state.json reads it.
        let snapshot = try await runVEM(["snapshot"], in: dir, environment: env)
        #expect(snapshot.status == 0)
        try snapshot.stdout.write(to: dir.appendingPathComponent("state.json"), atomically: true, encoding: .utf8)
        let eval = try await runVEM(
            ["eval", "--snapshot", "state.json", "sorted([(c.name, c.ram_free) for c in manager.clients])"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == #"[("h1", 5000), ("vm1", 300)]"#)

        // A Manager that is not there: a clear error, exit 1.
        let nowhere = try await runVEM(["status", "--manager-url", "http://127.0.0.1:1"], in: dir)
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains("cannot reach the Manager"))

        for client in clients { await client.stop() }
        await manager.stop(SIGTERM)
        let exit = await manager.waitForExit()
        #expect(exit == 0, "manager exit \(exit): \(manager.stderr)")
    }

    @Test func aBrokenSiteIsRefusedWithLocatedDiagnostics() async throws {
        let dir = try scratchDirectory("broken")
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            [manager]
            listen = 127.0.0.1:0

            [client_query]
            expr = { len(manager.clients) != }
            cmd = { sender.send_get_property() }
            ticks = 30
            """.write(to: dir.appendingPathComponent("bad.ini"), atomically: true, encoding: .utf8)
        let out = try await runVEM(["manager", "-c", "bad.ini"], in: dir)
        #expect(out.status == 1)
        #expect(out.stderr.contains("bad.ini:5:"), "\(out.stderr)")
        #expect(out.stderr.contains("error:"))
        #expect(out.stderr.contains("the manager does not start"))
    }
}
