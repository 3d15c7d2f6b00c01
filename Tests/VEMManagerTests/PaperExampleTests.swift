import Testing
import VEMBus
@testable import VEMManager
import VEMProtocol
import VEMRules

/// The paper's example configuration (examples/paper.ini) driven on the in-memory bus with a test clock: each
/// step moves the clock and waits for the Manager to have done what follows (no wall time is read), then asserts.
@Suite(.timeLimit(.minutes(2))) struct PaperExampleTests {
    @Test func clientQueryFiresEvery30SecondsOnceAClientExists() async throws {
        let site = try loadSite(try paperConfiguration(), name: "paper.ini")
        try await Harness.run(site: site) { h in
            // No Client yet: the expr is false, nothing is sent.
            await h.advance(by: 30)
            #expect(h.stats("client_query")?.evaluations == 1)
            #expect(h.stats("client_query")?.fired == 0)

            let host = FakeClient(bus: h.bus, name: "h1", properties: ["ram_free": 123_456])
            try await h.with([host]) {
                #expect(host.requestCount == 0)
                await h.step(by: 30)
                #expect(host.requestCount == 1)
                // The reply landed in the state.
                #expect(h.snapshot.clients["h1"]?.properties["ram_free"]?.value == .int(123_456))
                #expect(h.stats("client_query")?.fired == 1)

                // Not before 30 s have passed again: the schedule's next wake-up is the next tick, 30 s on, so
                // 29 s run no pass, and nothing more was sent.
                let nextTick = h.clock.now() + 30
                #expect(h.manager.triggerWatch.nextWake == nextTick)
                let passes = h.manager.triggerWatch.passCount
                await h.step(by: 29)
                #expect(h.manager.triggerWatch.passCount == passes, "the periodic pass ran before its tick")
                #expect(host.requestCount == 1)
                await h.step(by: 1)
                #expect(host.requestCount == 2)
                #expect(h.stats("client_query")?.evaluations == 3)
                #expect(h.stats("client_query")?.fired == 2)
                #expect(h.stats("client_query")?.errors == 0)
            }
        }
    }

    @Test func anOnUpdateTriggerFiresOnAPropertyChangeAndItsCommandIsTraced() async throws {
        let text = try paperConfiguration() + """

            [low_memory]
            expr = { len([c for c in manager.clients if c.ram_free != None and c.ram_free < 1000]) > 0 }
            cmd = {
                [sender.send_command(c, "drop-caches", level=1) for c in manager.clients if c.ram_free != None and c.ram_free < 1000]
                log("asked low-memory clients to drop caches")
            }
            on_update_check = yes
            """
        let site = try loadSite(text)
        try await Harness.run(site: site) { h in
            let host = FakeClient(bus: h.bus, name: "h1", properties: ["ram_free": 5000])
            try await h.with([host]) {
                await h.step(by: 30)
                #expect(h.snapshot.clients["h1"]?.properties["ram_free"]?.value == .int(5000))
                #expect(h.stats("low_memory")?.evaluations == 1)  // on the update the reply brought
                #expect(h.stats("low_memory")?.fired == 0)
                #expect(host.executedCommands.isEmpty)

                host.set("ram_free", 200)
                await h.step(by: 30)
                #expect(host.executedCommands.first?.name == "drop-caches")
                #expect(host.executedCommands.first?.arguments == [NamedValue("level", .int(1))])
                #expect(h.stats("low_memory")?.fired == 1)
                // The journal traces the command to its trigger and records its result.
                #expect(try await h.journal.allCommands().first?.state == .done)
                let command = try #require(try await h.journal.allCommands().first)
                #expect(command.trigger == "low_memory")
                #expect(command.client == "h1")
                #expect(command.seq == 1)
                #expect(command.result?.hasPrefix("ok exit 0") == true)
                let decisions = try await h.journal.recentDecisions()
                #expect(decisions.contains { $0.trigger == "low_memory" && $0.action.hasPrefix("send_command(h1, drop-caches") })
                #expect(decisions.contains { $0.trigger == "low_memory" && $0.action.contains("asked low-memory") })
                #expect(decisions.contains { $0.trigger == "client_query" && $0.action.hasPrefix("send_get_property") })
            }
        }
    }

    @Test func theSnapshotIsWhatVemEvalReads() async throws {
        let text = try paperConfiguration() + """

            [group:atlas]
            share = 40
            """
        let site = try loadSite(text)
        try await Harness.run(site: site) { h in
            let host = FakeClient(bus: h.bus, name: "h1", properties: ["ram_free": 700])
            let vm = FakeClient(bus: h.bus, name: "vm1", role: .domU, properties: ["ram_free": 300])
            try await h.with([host, vm]) {
                await h.step(by: 30)
                #expect(h.snapshot.propertyUpdates >= 2)
                let api = OperatorAPI(manager: h.manager)
                let response = await api.get("/v1/snapshot")
                #expect(response.status == 200)
                let snapshot = try Snapshot(json: response.body)
                let recorder = CallRecorder()
                let value = try evaluate(
                    "sorted([(c.name, c.role, c.ram_free) for c in manager.clients])", globals: snapshot.evalGlobals(recorder: recorder))
                #expect(value.repr == #"[("h1", "dom0", 700), ("vm1", "domU", 300)]"#)
                let groups = try evaluate("[(g.name, g.share, g.vms) for g in manager.groups]", globals: snapshot.evalGlobals(recorder: recorder))
                #expect(groups.repr == #"[("atlas", 40, 0)]"#)
                let hosts = try evaluate("[(x.name, x.clients) for x in manager.hosts]", globals: snapshot.evalGlobals(recorder: recorder))
                #expect(hosts.repr == #"[("host-h1", 1), ("host-vm1", 1)]"#)
            }
        }
    }
}
