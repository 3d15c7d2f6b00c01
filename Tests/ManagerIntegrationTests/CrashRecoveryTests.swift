import Foundation
import Testing
import VEMManager

/// `vem manager` killed with SIGKILL in the middle of a command sequence to several Clients, restarted on the
/// same journal: no command lost, none executed twice, unknowns marked.
@Suite struct CrashRecoveryTests {
    /// `seq name` lines a test client appended, in order.
    static func executed(_ file: URL) -> [UInt64] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { $0.split(separator: " ").first.flatMap { UInt64($0) } }
    }

    static func site(listen: Int, journal: URL) -> String {
        """
        [manager]
        listen = 127.0.0.1:\(listen)
        http_listen = 127.0.0.1:0
        heartbeat_interval = 500ms
        journal = \(journal.path)

        [burst]
        expr = { len(manager.clients) >= 3 }
        cmd = { [sender.send_command(c, "step") for c in manager.clients for i in range(3)] }
        ticks = 1
        """
    }

    @Test func aKilledManagerResumesFromItsJournal() async throws {
        let dir = try scratchDirectory("crash")
        defer { if ProcessInfo.processInfo.environment["VEM_KEEP_SCRATCH"] == nil { try? FileManager.default.removeItem(at: dir) } }
        let journalFile = dir.appendingPathComponent("journal.sqlite")
        let portFile = dir.appendingPathComponent("ports.json")
        try Self.site(listen: 0, journal: journalFile).write(
            to: dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)

        var daemons: [Daemon] = []
        defer { for daemon in daemons where !daemon.hasExited { kill(daemon.pid, SIGKILL) } }
        func start(_ arguments: [String], _ label: String) throws -> Daemon {
            let daemon = try Daemon.start(
                arguments, in: dir, stdout: dir.appendingPathComponent("\(label).out"),
                stderr: dir.appendingPathComponent("\(label).err"))
            daemons.append(daemon)
            return daemon
        }
        func client(_ name: String, log: String, hub: Int) throws -> Daemon {
            try start(
                [
                    "manager-test-client", "--connect", "127.0.0.1:\(hub)", "--name", name, "--log",
                    dir.appendingPathComponent(log).path, "--command-delay-ms", "400",
                ], "\(name)-\(log)")
        }

        // First life: three Clients, commands pile up faster than they run (3/s each, 2.5/s executed).
        let first = try start(["manager", "-c", "site.ini", "--port-file", portFile.path], "manager1")
        let ports = try #require(await waitForPorts(portFile, manager: first))
        let c1 = try client("c1", log: "c1.log", hub: ports.hub)
        let c2 = try client("c2", log: "c2.log", hub: ports.hub)
        let c3 = try client("c3", log: "c3-first.log", hub: ports.hub)
        _ = (c1, c2)
        let env = ["VEM_MANAGER_URL": "http://127.0.0.1:\(ports.http)"]
        _ = try await poll("30 commands journaled", seconds: 60) { () -> Bool? in
            let out = try await runVEM(["commands", "--json", "--limit", "1000"], in: dir, environment: env)
            let rows = (try? JSONDecoder().decode([CommandRecord].self, from: Data(out.stdout.utf8))) ?? []
            return rows.count >= 30 ? true : nil
        }
        await first.stop(SIGKILL)

        // While the Manager is dead, c3's process dies too and a new incarnation starts.
        await c3.stop(SIGKILL)
        let openAtKill = try await Journal(path: journalFile.path).allCommands().filter { !$0.state.isFinal }
        #expect(!openAtKill.isEmpty, "no command was in flight when the manager was killed")
        let c3b = try client("c3", log: "c3-second.log", hub: ports.hub)

        // Second life on the same journal and hub port.
        try? FileManager.default.removeItem(at: portFile)
        try Self.site(listen: ports.hub, journal: journalFile).write(
            to: dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)
        let second = try start(["manager", "-c", "site.ini", "--port-file", portFile.path], "manager2")
        let ports2 = try #require(await waitForPorts(portFile, manager: second))
        #expect(ports2.hub == ports.hub)
        let env2 = ["VEM_MANAGER_URL": "http://127.0.0.1:\(ports2.http)"]
        func commands() async throws -> [CommandRecord] {
            let out = try await runVEM(["commands", "--json", "--limit", "10000"], in: dir, environment: env2)
            return (try? JSONDecoder().decode([CommandRecord].self, from: Data(out.stdout.utf8))) ?? []
        }
        // The commands open at the kill get their outcome: resent to c1 and c2 (same incarnation), unknown for c3.
        let openKeys = Set(openAtKill.map { "\($0.client)#\($0.seq)" })
        _ = try await poll("the commands open at the kill are resolved", seconds: 40) { () -> Bool? in
            let rows = try await commands().filter { openKeys.contains("\($0.client)#\($0.seq)") }
            return rows.count == openKeys.count && rows.allSatisfy(\.state.isFinal) ? true : nil
        }
        let status = try await runVEM(["status"], in: dir, environment: env2)
        #expect(status.stdout.contains("recovered: 3 client streams"), "\(status.stdout)")

        // Stop the Clients (their unfinished commands become unknown), then the Manager, gracefully.
        for daemon in [c1, c2, c3b] { await daemon.stop(SIGTERM) }
        // A trigger pass that saw a Client just before its bye may still have sent it commands: they wait, queued,
        // for its next incarnation. Everything else gets an outcome.
        _ = try await poll("every command has an outcome", seconds: 30) { () -> Bool? in
            try await commands().allSatisfy { $0.state.isFinal || $0.state == .queued } ? true : nil
        }
        await second.stop(SIGTERM)

        let journal = try Journal(path: journalFile.path)
        let all = try await journal.allCommands()
        let logs: [String: [UInt64]] = [
            "c1": Self.executed(dir.appendingPathComponent("c1.log")),
            "c2": Self.executed(dir.appendingPathComponent("c2.log")),
            "c3": Self.executed(dir.appendingPathComponent("c3-first.log")) + Self.executed(dir.appendingPathComponent("c3-second.log")),
        ]
        // No command lost: every command has a final state, or waits (queued, never run) for its Client to return.
        let stillOpen = all.filter { !$0.state.isFinal && $0.state != .queued }.map { "\($0.client)#\($0.seq) \($0.state.rawValue)" }
        #expect(stillOpen.isEmpty, "open: \(stillOpen)")
        for command in all where command.state == .queued {
            let ran = (logs[command.client] ?? []).contains(command.seq)
            #expect(!ran, "\(command.client)#\(command.seq) is queued but ran")
        }
        for (name, seqs) in logs {
            // None executed twice, and in order.
            #expect(Set(seqs).count == seqs.count, "\(name) executed a command twice: \(seqs)")
            #expect(seqs == seqs.sorted(), "\(name) executed out of order")
            // Nothing ran that the journal does not know.
            let journaled = Set(all.filter { $0.client == name }.map(\.seq))
            #expect(Set(seqs).isSubset(of: journaled), "\(name) executed unjournaled commands")
            // A command reported done ran exactly once.
            for command in all where command.client == name && command.state == .done {
                #expect(seqs.contains(command.seq), "\(name)#\(command.seq) is done but never ran")
            }
        }
        // c3's old incarnation never confirmed its open commands: unknown, and the new incarnation ran none.
        let c3Open = openAtKill.filter { $0.client == "c3" }
        let c3Second = Set(Self.executed(dir.appendingPathComponent("c3-second.log")))
        for command in c3Open {
            let final = all.first { $0.client == "c3" && $0.seq == command.seq }
            #expect(final?.state == .unknown, "c3#\(command.seq) is \(final?.state.rawValue ?? "missing")")
            #expect(!c3Second.contains(command.seq))
        }
        // c1 and c2 kept their incarnation: what they had not run was resent and ran, under the same numbers.
        let resumed = openAtKill.filter { $0.client != "c3" }
        let resumedDone = resumed.filter { command in
            all.first { $0.client == command.client && $0.seq == command.seq }?.state == .done
        }
        print(
            "crash-recovery: \(all.count) commands; open at the kill: \(openAtKill.count) (c3: \(c3Open.count)); "
                + "resumed and done: \(resumedDone.count)/\(resumed.count); unknown: \(all.filter { $0.state == .unknown }.count)")
        #expect(!resumed.isEmpty)
        var notDone: [String] = []
        for opened in resumed {
            guard let final = all.first(where: { $0.client == opened.client && $0.seq == opened.seq }), final.state != .done
            else { continue }
            let runs = (logs[final.client] ?? []).filter { $0 == final.seq }.count
            notDone.append(
                "\(final.client)#\(final.seq) was \(opened.state.rawValue), now \(final.state.rawValue) "
                    + "(\(final.result ?? "")), ran \(runs)x")
        }
        #expect(notDone.isEmpty, "resumed \(resumed.count), not done: \(notDone)")
    }
}
