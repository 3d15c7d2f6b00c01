import Foundation
import Testing
import VEMBus
import VEMConfig
import VEMManager
import VEMPolicy
import VEMProtocol
import VEMRules
import VEMSite

/// The default trigger set: `vem.poll` asks for properties, their arrival fires `vem.rebalance`, and the pool is
/// planned with the `[manager]` section's planner settings — no trigger written by the site.
@Suite(.timeLimit(.minutes(2))) struct DefaultTriggerTests {
    static let configuration = """
        [manager]
        poll_interval = 10s
        rebalance_interval = 5m
        idle_timeout = 45s
        min_lifetime = 90s
        max_booting = 3
        max_booting_per_host = 1
        placement = spread
        migration = no
        starvation_grace = 2m

        [group:A]
        share = 50
        vm_vcpus = 2
        vm_memory_mib = 2048

        [group:B]
        share = 50
        vm_vcpus = 2
        vm_memory_mib = 2048
        """

    @Test func aSiteWithGroupsGetsThePollAndRebalanceTriggers() throws {
        let site = try loadSite(Self.configuration)
        let triggers = site.triggers.map(\.definition)
        #expect(triggers.map(\.name) == ["vem.poll", "vem.rebalance"])
        #expect(triggers[0].ticks == 10 && !triggers[0].onUpdateCheck)
        #expect(triggers[1].ticks == 300 && triggers[1].onUpdateCheck)
        #expect(triggers.allSatisfy { $0.location.file == DefaultTriggers.fileName })
    }

    @Test func aConfiguredTriggerOfTheSameNameReplacesTheDefault() throws {
        let site = try loadSite(
            Self.configuration + """

                [trigger:vem.rebalance]
                expr = { len(manager.clients) > 2 }
                cmd = { policy.rebalance() }
                ticks = 7
                """)
        let rebalance = try #require(site.triggers.first { $0.name == "vem.rebalance" })
        #expect(rebalance.definition.ticks == 7)
        #expect(rebalance.definition.location.file == "test.ini")
        #expect(site.triggers.filter { $0.name == "vem.rebalance" }.count == 1)
        #expect(site.triggers.contains { $0.name == "vem.poll" })
    }

    @Test func noDefaultsWithoutGroupsOrWhenTurnedOff() throws {
        let off = try loadSite(Self.configuration.replacingOccurrences(of: "[manager]", with: "[manager]\ndefault_triggers = no"))
        #expect(off.triggers.isEmpty)
        let noGroups = try loadSite("[manager]\npoll_interval = 10s\n")
        #expect(noGroups.triggers.isEmpty)
    }

    @Test func thePlannerSettingsComeFromTheManagerSection() throws {
        let site = try loadSite(Self.configuration)
        let policy = PolicyConfiguration(try #require(site.configuration.manager))
        #expect(policy == PolicyConfiguration(
            maxBootingSiteWide: 3, maxBootingPerHost: 1, minLifetime: 90, idleTimeout: 45, starvationGrace: 120,
            placement: .spread, migrationAllowed: false))
        // Nothing said: the planner's own defaults.
        #expect(PolicyConfiguration(ManagerSettings()) == PolicyConfiguration())
    }

    @Test func thePollsRepliesFireTheRebalanceWhichCreatesVMs() async throws {
        let site = try loadSite(Self.configuration)
        try await Harness.run(site: site) { h in
            let hosts = [PoolFakes.dom0(h.bus, "h1"), PoolFakes.dom0(h.bus, "h2")]
            let batch = try PoolFakes.batch(h.bus)
            try await h.with(hosts + [batch]) {
                #expect(h.stats("vem.rebalance")?.evaluations == 0)

                // t=10: vem.poll; the replies fire vem.rebalance (on update), long before its 5-minute tick.
                await h.step(by: 10)
                // The first reply fires a pass at once, which may see only part of the state (and refuse: no
                // demand reported yet, or plan on one host); the next (debounced) pass, a second later, sees all.
                #expect(h.snapshot.clients["slurmctl"]?.properties["slurm.demand"] != nil)
                #expect(h.snapshot.clients["h1"]?.properties["hypervisor"] != nil)
                #expect(h.snapshot.clients["h2"]?.properties["hypervisor"] != nil)
                await h.step(by: 1)
                let created = try await h.journal.allCommands().filter { $0.name == "vm.create" }
                #expect(Set(created.map(\.client)) == ["h1", "h2"])
                #expect(h.stats("vem.poll")?.fired == 1)
                #expect((h.stats("vem.rebalance")?.fired ?? 0) >= 1)
                let creates = try await h.journal.allCommands().filter { $0.name == "vm.create" }
                #expect(creates.allSatisfy { $0.trigger == "vem.rebalance" })
                // max_booting_per_host = 1 and spread: one VM on each host, never two on one.
                #expect(creates.count == 2)
                let decisions = try await h.journal.recentDecisions().filter { $0.action == "create" }
                #expect(decisions.count == 2)
                #expect(decisions.allSatisfy { $0.trigger == "vem.rebalance" && $0.group == "B" })
            }
        }
    }

    @Test func triggersSeeEachGroupsDemandFromTheBatchClient() async throws {
        let site = try loadSite(
            Self.configuration + """

                [b_waits]
                expr = { [(g.demand, g.pending_jobs, g.demand_known) for g in manager.groups if g.name == "B"] == [(6, 3, True)] }
                cmd = { log("B waits") }
                on_update_check = yes
                """)
        try await Harness.run(site: site) { h in
            #expect(h.stats("b_waits")?.fired == 0)
            try await h.with([try PoolFakes.batch(h.bus)]) {
                await h.step(by: 10)
                #expect((h.stats("b_waits")?.fired ?? 0) >= 1, "b_waits fired on the batch Client's demand")
                let document = OperatorAPI(manager: h.manager).snapshot()
                #expect(Self.field("demand", of: "A", in: document) == .int(0))
                #expect(Self.field("demand_known", of: "A", in: document) == .bool(true))
                #expect(Self.field("running_jobs", of: "B", in: document) == .int(0))
            }
        }
    }

    /// A field of a group in a snapshot document.
    static func field(_ key: String, of group: String, in document: JSON) -> JSON? {
        guard case .object(let top) = document, case .array(let groups)? = top["groups"] else { return nil }
        for case .object(let g) in groups where g["name"] == .string(group) { return g[key] }
        return nil
    }
}
