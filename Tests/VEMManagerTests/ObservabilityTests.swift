import Foundation
import Logging
import Synchronization
import Testing
import VEMBus
import VEMProtocol

@testable import VEMManager
@testable import VEMPolicy

/// `/metrics` as the Manager emits it, the dashboard's rendering and escaping, and the JSON log handler.
@Suite(.timeLimit(.minutes(2))) struct ObservabilityTests {
    /// The value of one sample line of Prometheus' text format (`name{labels} value`), nil when absent.
    static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func metricsCountTriggersClientsJournalWritesAndAreNotSharedBetweenManagers() async throws {
        let site = try loadSite(try paperConfiguration(), name: "paper.ini")
        try await Harness.run(site: site) { h in
            let host = FakeClient(bus: h.bus, name: "h1", properties: ["ram_free": 123_456])
            try await h.with([host]) {
                await h.advance(by: 30)
                await waitUntil("get_property reached h1") { host.requestCount == 1 }
                let text = await h.manager.metrics.collect(h.manager)
                #expect(Self.sample(text, #"vem_clients{role="dom0",state="connected"}"#) == 1)
                #expect(Self.sample(text, #"vem_clients{role="domU",state="connected"}"#) == 0)
                #expect(Self.sample(text, #"vem_trigger_evaluations_total{trigger="client_query",result="true"}"#) == 1)
                #expect(text.contains(#"vem_trigger_evaluation_duration_seconds_count{trigger="client_query"} "#))
                #expect(text.contains("# TYPE vem_clients gauge"))
                #expect(text.contains("# HELP vem_clients Clients known since start, by role and state."))
                #expect((Self.sample(text, "vem_bus_events_total") ?? 0) >= 1)
                // The join was journaled (`record a client`), and timed.
                #expect(text.contains(#"vem_journal_write_duration_seconds_count{operation="record a client"} "#))
            }
            // A second Manager in the same process counts for itself only.
            try await Harness.run(site: site) { other in
                let text = await other.manager.metrics.collect(other.manager)
                #expect(Self.sample(text, #"vem_clients{role="dom0",state="connected"}"#) == 0)
                #expect(!text.contains(#"trigger="client_query",result="true""#))
            }
            // h1 left: its series goes to "gone", and the connected one to 0 rather than staying stale.
            await waitUntil("h1 gone") { h.snapshot.clients["h1"]?.connected == false }
            let after = await h.manager.metrics.collect(h.manager)
            #expect(Self.sample(after, #"vem_clients{role="dom0",state="connected"}"#) == 0)
            #expect(Self.sample(after, #"vem_clients{role="dom0",state="gone"}"#) == 1)
        }
    }

    @Test func poolHistoryKeepsChangesOnlyAndIsBounded() {
        let history = PoolHistory(capacity: 3)
        func target(_ held: Int) -> GroupTarget {
            GroupTarget(
                group: "a", share: 1, shareFraction: 1, shareVMs: 4, busyVMs: held, pendingVMs: 0, demandVMs: held,
                capVMs: 4, guaranteedVMs: 4, targetVMs: 2, bootingVMs: 0, activeVMs: held, drainingVMs: 0,
                starving: false, why: "")
        }
        history.record(at: 1, [target(0)])
        history.record(at: 2, [target(0)])
        #expect(history.all.count == 1)
        #expect(history.latest?.until == 2)
        for t in 3...6 { history.record(at: Double(t), [target(t)]) }
        #expect(history.all.map(\.time) == [4, 5, 6])
        #expect(history.latest?.groups.first?.held == 6)
    }

    @Test func theDashboardEscapesEveryNameAGuestChooses() {
        let evil = #"<script>alert("x")</script>&'"#
        let state = DashboardState(
            now: 100, groups: ["atlas"],
            history: [],
            vms: [
                VMReport(
                    name: evil, group: "atlas", host: "host<1>", stage: "active", cpus: 1, memoryMiB: 1024,
                    createdAt: 0,
                    clientJoined: true, registered: true, busy: false, idleSince: nil, migratingTo: nil,
                    operationPending: false)
            ],
            decisions: [
                DecisionRecord(
                    time: 90, trigger: "vem.rebalance", action: "create", reason: evil, vm: evil, group: "atlas")
            ],
            clients: [
                DashboardState.Client(
                    name: evil, role: "domU", host: "h", group: "atlas", connected: true, properties: [(evil, evil)])
            ],
            triggers: [])
        let page = DashboardPage.page(state, title: evil)
        #expect(!page.contains("<script>alert"))
        #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(page.contains("host&lt;1&gt;"))
        // The page's own script is the only one.
        #expect(page.components(separatedBy: "<script>").count == 2)
        #expect(page.contains(#"id="vm-count" data-count="1""#))
        // Every section the events replace is on the page.
        for id in DashboardPage.sectionIDs { #expect(page.contains("<div id=\"\(id)\">")) }
    }

    @Test func jsonLogsAreOneObjectPerLineWithSecretsRedacted() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "vem.test") { label in
            JSONLogHandler(label: label, sink: { line in lines.withLock { $0.append(line) } })
        }
        logger.logLevel = .info
        logger.debug("not written")
        logger.info(
            "joined\nsecond line",
            metadata: ["client": "h1", "token": "s3cret", "nested": ["api_key": "k3y", "n": "1"]])
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(!line.contains("\n"))
        #expect(!line.contains("s3cret") && !line.contains("k3y"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "joined\nsecond line")
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "vem.test")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["client"] as? String == "h1")
        #expect(metadata["token"] as? String == "[redacted]")
        #expect((metadata["nested"] as? [String: Any])?["api_key"] as? String == "[redacted]")
        #expect((object["time"] as? String)?.hasSuffix("Z") == true)
    }
}
