import Foundation
import Testing

@Suite struct CheckConfigTests {
    @Test func thePapersExamplesLoadAndAreListed() async throws {
        let out = try await runVEM(["check-config", "examples/paper.ini"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("ram_free"))
        #expect(out.stdout.contains("plugin ram(MemFree)"))
        #expect(out.stdout.contains("every 60 s"))
        #expect(out.stdout.contains("client_query"))
        #expect(out.stdout.contains("every 30 s"))
    }

    @Test func theShippedSiteAndAgentExamplesLoad() async throws {
        for file in ["examples/site.ini", "examples/agent.ini"] {
            let out = try await runVEM(["check-config", file])
            #expect(out.status == 0, "\(file): \(out.stderr)")
            if file == "examples/site.ini" {
                // The Manager's default triggers are listed, marked as such, with the planner's settings.
                #expect(out.stdout.contains("vem.rebalance  every 60 s, on update"))
                #expect(out.stdout.contains("(default)"))
                #expect(out.stdout.contains("policy: pack, ≤ 4 booting (2 per host), idle timeout 5m"))
            }
        }
    }

    @Test func brokenFilesExitOneWithEveryDiagnostic() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("broken.ini")
        try """
            [ram_free]
            command = ram
            tick = 60
            ticks = soon

            [client_query]
            expr = { len(manager.clients) != 0 }
            cmd = { sender.send_get_property( }
            ticks = 30
            """.write(to: file, atomically: true, encoding: .utf8)
        let out = try await runVEM(["check-config", file.path])
        #expect(out.status == 1)
        #expect(out.stderr.contains("\(file.path):3:1: error: unknown key 'tick'; did you mean 'ticks'?"))
        #expect(out.stderr.contains("\(file.path):4:"))
        #expect(out.stderr.contains("\(file.path):8:"))
        #expect(out.stderr.contains("^"))
        #expect(out.stdout.isEmpty)
    }

    @Test func jsonPrintsTheWholeConfiguration() async throws {
        let out = try await runVEM(["check-config", "--json", "examples/paper.ini"])
        #expect(out.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]
        let properties = object?["properties"] as? [[String: Any]]
        #expect(properties?.first?["name"] as? String == "ram_free")
        #expect((object?["triggers"] as? [Any])?.count == 1)
    }

    @Test func aMissingFileIsAnError() async throws {
        let out = try await runVEM(["check-config", "/nonexistent/site.ini"])
        #expect(out.status == 1)
        #expect(out.stderr.contains("/nonexistent/site.ini: error: cannot read file"))
    }
}

@Suite struct EvalTests {
    @Test func evaluatesAnExpression() async throws {
        let out = try await runVEM(["eval", "sorted([3, 1, 2])[-1] * 2"])
        #expect(out.status == 0)
        #expect(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "6")
    }

    @Test func theManagersActionsAreRecordedNotPerformed() async throws {
        let out = try await runVEM(["eval", #"vm.create("atlas", host="h1"); vm.drain("atlas-vm-2"); policy.rebalance()"#])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(
            out.stderr.contains(#"recorded: vm.create("atlas", host="h1")"#) && out.stderr.contains("recorded: vm.drain")
                && out.stderr.contains("recorded: policy.rebalance()"), "\(out.stdout)\(out.stderr)")
    }

    @Test func jsonErrorsExitOne() async throws {
        let out = try await runVEM(["eval", "--json", "1 // 0"])
        #expect(out.status == 1)
        let object = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]
        #expect((object?["error"] as? String)?.isEmpty == false)
    }

    @Test func readsASnapshot() async throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("state.json")
        try #"{"clients":[{"name":"h1","role":"dom0","host":"h1","properties":{"ram_free":512}},{"name":"h2","role":"dom0","host":"h2","properties":{"ram_free":2048}}]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let out = try await runVEM(["eval", "--snapshot", file.path, "max(manager.clients, key=lambda c: c.ram_free).name"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("h2"))
        let none = try await runVEM(["eval", "len(manager.clients) != 0"])
        #expect(none.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "False")
    }
}
