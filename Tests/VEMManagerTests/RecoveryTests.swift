import Testing
import VEMBus
import VEMManager
import VEMProtocol
import VEMTestKit

/// A Manager restarted on its journal takes back its Clients' command streams.
@Suite(.timeLimit(.minutes(2))) struct RecoveryTests {
    static let pushing = """
        [push]
        expr = { len(manager.clients) > 0 }
        cmd = { sender.send_command("h1", "step", 1); sender.send_command("h1", "step", 2) }
        ticks = 10
        """
    static let quiet = """
        [manager]
        step_budget = 1000
        """

    /// Phase 1: commands are sent to h1 (incarnation 7) but never arrive; the Manager then "dies".
    func firstLife(journal: Journal) async throws {
        let faults = InMemoryBus.Faults(seed: 1, dropRate: 1, types: [.command])
        try await Harness.run(site: try loadSite(Self.pushing), journal: journal, faults: faults) { h in
            let h1 = FakeClient(bus: h.bus, name: "h1", incarnation: 7)
            try await h.with([h1]) {
                await h.advance(by: 10)
                await h.advance(by: 10)
                await waitUntil("4 commands sent") {
                    ((try? await journal.allCommands()) ?? []).filter { $0.state == .sent }.count == 4
                }
                #expect(h1.executedCommands.isEmpty)
                h1.client.kill()  // the connection drops without a bye, as when a process dies
            }
        }
        let states = try await journal.allCommands().map(\.state)
        #expect(states == [.sent, .sent, .sent, .sent])
    }

    @Test func theSameIncarnationGetsTheOpenCommandsUnderTheirNumbers() async throws {
        let journal = try Journal(path: nil)
        try await firstLife(journal: journal)
        try await Harness.run(site: try loadSite(Self.quiet), journal: journal) { h in
            #expect(h.recovery.clients == 1)
            #expect(h.recovery.resumed == 4)
            let h1 = FakeClient(bus: h.bus, name: "h1", incarnation: 7)
            try await h.with([h1]) {
                // The recovered commands are resent on the reconnection; quiet once their outcomes are journaled.
                await h.manager.activity.quiet()
                #expect(h1.executedCommands.map(\.seq) == [1, 2, 3, 4])
                #expect(h1.executedCommands.map(\.arguments) == [
                    [NamedValue("", .int(1))], [NamedValue("", .int(2))],
                    [NamedValue("", .int(1))], [NamedValue("", .int(2))],
                ])
                let states = try await journal.allCommands().map(\.state)
                #expect(states == [.done, .done, .done, .done])
                let triggers = try await journal.allCommands().map(\.trigger)
                #expect(triggers == ["push", "push", "push", "push"])
            }
        }
    }

    @Test func anotherIncarnationMakesThemUnknownAndNewNumbersFollow() async throws {
        let journal = try Journal(path: nil)
        try await firstLife(journal: journal)
        try await Harness.run(site: try loadSite(Self.pushing), journal: journal) { h in
            let h1 = FakeClient(bus: h.bus, name: "h1", incarnation: 8)
            try await h.with([h1]) {
                // The new incarnation's join ends the old commands: unknown, once their outcomes are journaled.
                await h.manager.activity.quiet()
                let unknown = try await journal.allCommands().filter { $0.state == .unknown }
                #expect(unknown.count == 4)
                // New commands continue the numbering; none of the old ones runs on the new incarnation.
                await h.step(by: 10)
                #expect(h1.executedCommands.map(\.seq) == [5, 6])
                let done = try await journal.allCommands().filter { $0.state == .done }.map(\.seq)
                #expect(done == [5, 6])
            }
        }
    }
}

/// The journal follows a command through queued → sent → acknowledged → done.
@Suite(.timeLimit(.minutes(2))) struct CommandStateTests {
    @Test func aCommandIsAcknowledgedWhileItRunsThenDone() async throws {
        let site = try loadSite("""
            [once]
            expr = { len(manager.clients) > 0 }
            cmd = { sender.send_command(manager.clients[0], "slow") }
            ticks = 100
            """)
        try await Harness.run(site: site) { h in
            let h1 = FakeClient(bus: h.bus, name: "h1")
            h1.hold(true)
            try await h.with([h1]) {
                await h.advance(by: 100)
                await h1.executed(atLeast: 1)
                let api = OperatorAPI(manager: h.manager)
                await waitUntil("acknowledged in the journal") {
                    _ = await api.get("/v1/commands")
                    return (try? await h.journal.allCommands().first?.state) == .acknowledged
                }
                h1.hold(false)
                await h.manager.activity.quiet()
                let state = try await h.journal.allCommands().first?.state
                #expect(state == .done)
                let status = try await api.status()
                #expect(status.commands == ["done": 1])
            }
        }
    }
}
