import Testing
import VEMBus
import VEMManager
import VEMProtocol

/// A trigger that fails or runs past its budget is counted, reported and skipped; the others go on.
@Suite(.timeLimit(.minutes(2))) struct ContainmentTests {
    static let configuration = """
        [broken]
        expr = { 1 // (len(manager.clients) - len(manager.clients)) == 0 }
        cmd = { log("never") }
        ticks = 10

        [runaway]
        expr = { len([x for x in range(100000)]) > 0 }
        cmd = { log("never either") }
        ticks = 10
        step_budget = 1000

        [healthy]
        expr = { True }
        cmd = { log("still here") }
        ticks = 10

        [later_layers]
        expr = { True }
        cmd = {
            policy.rebalance()
            vm.create("atlas", host="h1")
        }
        ticks = 10
        """

    @Test func failingTriggersAreCountedAndTheOthersGoOn() async throws {
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            await h.advance(by: 10)
            await h.advance(by: 10)
            let broken = try #require(h.stats("broken"))
            #expect(broken.evaluations == 2)
            #expect(broken.errors == 2)
            #expect(broken.lastResult == "error")
            #expect(broken.lastError?.contains("zero") == true || broken.lastError?.contains("division") == true)
            let runaway = try #require(h.stats("runaway"))
            #expect(runaway.errors == 2)
            #expect(runaway.budgetExceeded == 2)
            #expect(runaway.lastError?.contains("runaway") == true)
            let healthy = try #require(h.stats("healthy"))
            #expect(healthy.fired == 2)
            #expect(healthy.errors == 0)
            #expect(h.snapshot.lastErrors.contains { $0.source == "trigger:broken" })
            #expect(h.snapshot.lastErrors.contains { $0.source == "trigger:runaway" })
            let status = try await OperatorAPI(manager: h.manager).status()
            #expect(status.triggerErrors == 4)
        }
    }

    @Test func poolActionsWithoutGroupsAreRefusedWithTheReason() async throws {
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            await h.step(by: 10)
            let decisions = try await h.journal.recentDecisions()
            let rebalance = try #require(decisions.first { $0.action == "policy.rebalance()" })
            #expect(rebalance.trigger == "later_layers")
            // policy.rebalance() is real now: with no batch Client it says why it did not run.
            #expect(rebalance.reason.hasPrefix("not run: "))
            // So does vm.create: this site has no groups.
            let create = try #require(decisions.first { $0.action == "vm.create(atlas, host=h1)" })
            #expect(create.reason == "refused: no group named 'atlas'", "\(create.reason)")
            #expect(h.stats("later_layers")?.errors == 0)
            #expect(decisions.contains { $0.trigger == "healthy" && $0.action == "log(still here)" })
        }
    }

    @Test func aCommandToAClientThatNeverJoinedIsRefusedNotJournaled() async throws {
        let site = try loadSite("""
            [ghost]
            expr = { True }
            cmd = { sender.send_command("nobody", "reboot") }
            ticks = 5
            """)
        try await Harness.run(site: site) { h in
            await h.step(by: 5)
            let decisions = try await h.journal.recentDecisions()
            #expect(decisions.contains { $0.reason.hasPrefix("refused") })
            let commands = try await h.journal.allCommands()
            #expect(commands.isEmpty)
            #expect(h.snapshot.lastErrors.contains { $0.source == "trigger:ghost" })
        }
    }
}

/// A Client that floods property reports does not starve the others: updates are coalesced into few passes.
@Suite(.timeLimit(.minutes(2))) struct FloodTests {
    @Test func aFloodOfReportsIsCoalescedAndOthersAreStillServed() async throws {
        let text = try paperConfiguration() + """

            [watch_updates]
            expr = { len(manager.clients) > 0 }
            cmd = { log("updated") }
            on_update_check = yes
            """
        let site = try loadSite(text)
        try await Harness.run(site: site) { h in
            let flooder = FakeClient(bus: h.bus, name: "flooder")
            let quiet = FakeClient(bus: h.bus, name: "quiet", properties: ["ram_free": 42])
            try await h.with([flooder, quiet]) {
                let reports = 20_000
                for i in 0..<reports {
                    try flooder.client.send(
                        .property(PropertyReport(readings: [PropertyReading(name: "spam", timestampMilliseconds: 0, value: .int(Int64(i)))])))
                }
                await h.step(by: 30)
                #expect(h.snapshot.clients["quiet"]?.properties["ram_free"]?.value == .int(42))
                await waitUntil("every report handled") { h.snapshot.propertyUpdates >= UInt64(reports) + 1 }
                #expect(h.snapshot.clients["flooder"]?.properties["spam"]?.value == .int(Int64(reports - 1)))
                let evaluations = h.stats("watch_updates")?.evaluations ?? 0
                #expect(evaluations >= 1)
                #expect(evaluations <= 5, "updates were not debounced: \(evaluations) passes")
            }
        }
    }
}
