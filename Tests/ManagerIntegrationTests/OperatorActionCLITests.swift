import Foundation
import Testing
import VEMManager

/// The operator's actions and `vem reload`/SIGHUP against a real `vem manager` process, through the real `vem`
/// command line and HTTP.
@Suite struct OperatorActionCLITests {
    /// A site whose one trigger is `trigger`, evaluated every second. Its expression is false, so it journals no
    /// decision: a `log()` every second (each is a decision) pushed the operator's actions out of `vem explain`'s
    /// latest 20 when a loaded machine made the test take a minute. The heartbeat is long: a Client stopped with
    /// SIGSTOP stays connected (silent) however slowly the test's `vem` processes start.
    static func site(_ dir: URL, trigger: String, broken: Bool = false) -> String {
        """
        [manager]
        listen = 127.0.0.1:0
        http_listen = 127.0.0.1:0
        journal = \(dir.path)/journal.sqlite
        default_triggers = no
        heartbeat_interval = 60s

        [group:B]
        share = 100

        [\(trigger)]
        expr = { len(manager.clients) \(broken ? "!=" : "< 0") }
        cmd = { log("\(trigger)") }
        ticks = 1
        """
    }

    /// The triggers' counters, or nil when the Manager cannot say.
    static func triggers(_ dir: URL, _ env: [String: String]) async throws -> [String: TriggerStats]? {
        let out = try await runVEM(["triggers", "--json"], in: dir, environment: env)
        guard out.status == 0, let rows = try? JSONDecoder().decode([TriggerStats].self, from: Data(out.stdout.utf8))
        else { return nil }
        return Dictionary(rows.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func actionsAreJournaledWithTheOperatorAndReloadSwapsATriggerInARunningManager() async throws {
        let dir = try scratchDirectory("actions")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("site.ini")
        try Self.site(dir, trigger: "first").write(to: file, atomically: true, encoding: .utf8)
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
        clients.append(
            try Daemon.start(
                [
                    "manager-test-client", "--connect", "127.0.0.1:\(ports.hub)", "--name", "h1", "--role", "dom0",
                    "--log", dir.appendingPathComponent("h1.log").path,
                ], in: dir, stdout: dir.appendingPathComponent("h1.out"), stderr: dir.appendingPathComponent("h1.err")))
        let env = ["VEM_MANAGER_URL": "http://127.0.0.1:\(ports.http)", "USER": "alice"]
        _ = try await poll("h1 connected") { () -> Bool? in
            let out = try await runVEM(["clients", "--json"], in: dir, environment: env)
            let rows = (try? JSONDecoder().decode([ClientReport].self, from: Data(out.stdout.utf8))) ?? []
            return rows.contains { $0.name == "h1" && $0.connected } ? true : nil
        }

        // The actions, each answered in words and with an exit status.
        let pause = try await runVEM(["pause"], in: dir, environment: env)
        #expect(pause.status == 0 && pause.stdout == "the planner is paused\n", "\(pause.stdout)\(pause.stderr)")
        let status = try await runVEM(["status"], in: dir, environment: env)
        #expect(status.stdout.contains("planner: paused by the operator"), "\(status.stdout)")
        let drain = try await runVEM(["host", "drain", "h1"], in: dir, environment: env)
        #expect(drain.status == 0 && drain.stdout.hasPrefix("h1 takes no new VMs; 0 VMs on it to move"), "\(drain.stdout)\(drain.stderr)")
        let unknownHost = try await runVEM(["host", "drain", "h9"], in: dir, environment: env)
        #expect(unknownHost.status == 1 && unknownHost.stderr.contains("no Dom0 Client named 'h9' has joined"), "\(unknownHost.stderr)")
        let forget = try await runVEM(["vm", "forget", "nosuch"], in: dir, environment: env)
        #expect(forget.status == 1 && forget.stderr.contains("no VM named nosuch in the pool"), "\(forget.stderr)")
        let hostResume = try await runVEM(["host", "resume", "h1"], in: dir, environment: env)
        #expect(hostResume.status == 0 && hostResume.stdout == "h1 takes new VMs again\n")
        let resume = try await runVEM(["resume"], in: dir, environment: env)
        #expect(resume.status == 0 && resume.stdout == "the planner decides again\n")

        // vem reload: the trigger `first` is replaced by `second`, which runs.
        _ = try await poll("first evaluated") { try await Self.triggers(dir, env)?["first"].map { $0.evaluations > 0 ? true : nil } ?? nil }
        try Self.site(dir, trigger: "second").write(to: file, atomically: true, encoding: .utf8)
        let reload = try await runVEM(["reload"], in: dir, environment: env)
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(reload.stdout.contains("1 triggers; added second; removed first"), "\(reload.stdout)")
        _ = try await poll("second evaluated, first gone") { () -> Bool? in
            guard let t = try await Self.triggers(dir, env) else { return nil }
            return t["first"] == nil && (t["second"]?.evaluations ?? 0) > 0 ? true : nil
        }

        // A broken file is refused with its location; the running triggers stay and keep running.
        try Self.site(dir, trigger: "third", broken: true).write(to: file, atomically: true, encoding: .utf8)
        let broken = try await runVEM(["reload"], in: dir, environment: env)
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("site.ini:12:34: error: unexpected end of expression"), "\(broken.stderr)")
        #expect(broken.stderr.contains("the running one stays"), "\(broken.stderr)")
        let before = try #require(try await Self.triggers(dir, env)?["second"]?.evaluations)
        _ = try await poll("second still evaluated") { () -> Bool? in
            guard let t = try await Self.triggers(dir, env) else { return nil }
            return t["third"] == nil && (t["second"]?.evaluations ?? 0) > before ? true : nil
        }

        // SIGHUP reloads too.
        try Self.site(dir, trigger: "fourth").write(to: file, atomically: true, encoding: .utf8)
        kill(manager.pid, SIGHUP)
        _ = try await poll("fourth evaluated after SIGHUP") { () -> Bool? in
            guard let t = try await Self.triggers(dir, env) else { return nil }
            return t["second"] == nil && (t["fourth"]?.evaluations ?? 0) > 0 ? true : nil
        }

        // Every action is a decision in the journal, with the operator who asked.
        let explained = try await runVEM(["explain", "--json"], in: dir, environment: env)
        let report = try JSONDecoder().decode(ExplainReport.self, from: Data(explained.stdout.utf8))
        let byAction = Dictionary(report.decisions.map { ($0.action, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byAction["vem pause"]?.trigger == "alice@127.0.0.1")
        #expect(byAction["vem host drain h1"]?.trigger == "alice@127.0.0.1")
        #expect(byAction["vem host drain h9"]?.reason.hasPrefix("refused") == true)
        #expect(report.decisions.contains { $0.action == "vem reload" && $0.trigger == "SIGHUP" && $0.reason.contains("added fourth") })
        #expect(report.decisions.contains { $0.action == "vem reload" && $0.reason.hasPrefix("refused") })

        for client in clients { await client.stop() }
        await manager.stop(SIGTERM)
        let exit = await manager.waitForExit()
        #expect(exit == 0, "manager exit \(exit): \(manager.stderr)")
    }

    /// `vem ask`: each answer printed as it arrives, a line for each Client that did not answer (here one stopped
    /// with SIGSTOP: connected, silent), exit status 1 then; everyone answers once it runs again.
    @Test func askPrintsEachAnswerAsItArrivesAndWhoDidNotAnswer() async throws {
        let dir = try scratchDirectory("ask")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.site(dir, trigger: "idle").write(to: dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)
        let portFile = dir.appendingPathComponent("ports.json")
        let manager = try Daemon.start(
            ["manager", "-c", "site.ini", "--port-file", portFile.path], in: dir,
            stdout: dir.appendingPathComponent("manager.out"), stderr: dir.appendingPathComponent("manager.err"))
        var clients: [String: Daemon] = [:]
        defer {
            for client in clients.values where !client.hasExited {
                kill(client.pid, SIGCONT)
                kill(client.pid, SIGKILL)
            }
            if !manager.hasExited { kill(manager.pid, SIGKILL) }
        }
        let ports = try #require(await waitForPorts(portFile, manager: manager))
        for (name, ram) in [("h1", 5000), ("h2", 6000), ("vm1", 300)] {
            clients[name] = try Daemon.start(
                [
                    "manager-test-client", "--connect", "127.0.0.1:\(ports.hub)", "--name", name, "--role",
                    name.hasPrefix("h") ? "dom0" : "domU", "--log", dir.appendingPathComponent("\(name).log").path,
                    "--property", "ram_free=\(ram)",
                ], in: dir, stdout: dir.appendingPathComponent("\(name).out"),
                stderr: dir.appendingPathComponent("\(name).err"))
        }
        let env = ["VEM_MANAGER_URL": "http://127.0.0.1:\(ports.http)"]
        _ = try await poll("three clients connected") { () -> Bool? in
            let out = try await runVEM(["clients", "--json"], in: dir, environment: env)
            let rows = (try? JSONDecoder().decode([ClientReport].self, from: Data(out.stdout.utf8))) ?? []
            return rows.filter(\.connected).count == 3 ? true : nil
        }

        let all = try await runVEM(["ask", "ram_free"], in: dir, environment: env)
        #expect(all.status == 0, "\(all.stdout)\(all.stderr)")
        #expect(all.stdout.contains("h1: ram_free=5000\n") && all.stdout.contains("vm1: ram_free=300\n"), "\(all.stdout)")
        #expect(all.stdout.contains("3 of 3 Clients answered in"), "\(all.stdout)")

        // h2 stopped: still connected (a 60 s heartbeat), but silent. The rounds' time-outs leave h1 seconds to
        // answer: a loaded machine can take longer than half a second over a debug Manager and Client.
        let h2 = try #require(clients["h2"])
        kill(h2.pid, SIGSTOP)
        let partial = try await runVEM(["ask", "ram_free", "--clients", "h*", "--timeout", "4", "--json"], in: dir, environment: env)
        let partialText = try await runVEM(["ask", "ram_free", "--clients", "h?", "--timeout", "2.5"], in: dir, environment: env)
        kill(h2.pid, SIGCONT)
        #expect(partialText.status == 1)
        #expect(partialText.stdout.hasPrefix("h1: ram_free=5000\nh2: no answer within 2.5 s\n1 of 2 Clients answered in "), "\(partialText.stdout)")
        #expect(partial.status == 1, "\(partial.stdout)\(partial.stderr)")
        let lines = partial.stdout.split(separator: "\n").compactMap {
            try? JSONDecoder().decode(AskLine.self, from: Data($0.utf8))
        }
        #expect(lines.count == 2, "\(partial.stdout)")
        let answer = try #require(lines.first)
        #expect(answer.client == "h1" && answer.readings?.first?.value == .int(5000))
        // Printed as it arrived, before the time-out that ended the round (an answer held to the end would say 4).
        #expect(answer.elapsed < 4.0, "\(answer.elapsed)")
        let last = try #require(lines.last)
        #expect(last.client == nil && last.missing == ["h2"] && last.asked == 2 && last.elapsed >= 4)
        let text = try await runVEM(["ask", "ram_free", "--clients", "nobody*"], in: dir, environment: env)
        #expect(text.status == 0 && text.stdout.hasPrefix("0 of 0 Clients answered in "), "\(text.stdout)")

        for client in clients.values { await client.stop() }
        await manager.stop(SIGTERM)
        #expect(await manager.waitForExit() == 0)
    }
}
