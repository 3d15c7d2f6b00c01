import Foundation
import Logging
import Synchronization
import Testing
import VEMBus
import VEMManager
import VEMProtocol
import VEMRules
import VEMTestKit

/// A log handler that keeps every line (level and message) for a test to read.
struct CapturingLogHandler: LogHandler {
    final class Store: Sendable {
        let lines = Mutex<[(Logger.Level, String)]>([])
        func count(_ level: Logger.Level, containing text: String) -> Int {
            lines.withLock { $0.filter { $0.0 == level && $0.1.contains(text) }.count }
        }
        func count(containing text: String) -> Int { lines.withLock { $0.filter { $0.1.contains(text) }.count } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.lines.withLock { $0.append((event.level, "\(event.message)")) }
    }
}

/// Defects of issue 20's walk-through, each kept fixed.
@Suite(.timeLimit(.minutes(2))) struct Issue20DefectTests {
    /// `policy.rebalance() not run: no connected batch client` was logged at notice level at every poll (115 of
    /// 254 lines): now once at notice level when it starts (or changes), then at debug level.
    @Test func aRepeatedRebalanceRefusalIsLoggedAtNoticeOnce() async throws {
        let site = try loadSite(RebalanceTests.configuration)
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "test") { _ in CapturingLogHandler(store: store) }
        try await Harness.run(site: site, logger: logger) { h in
            for pass in 1...3 {
                await h.step(by: 60)
                #expect(store.count(containing: "policy.rebalance() not run") == pass)
            }
            #expect(store.count(.notice, containing: "policy.rebalance() not run: no connected batch client") == 1)
            #expect(store.count(.debug, containing: "policy.rebalance() not run: no connected batch client") == 2)
        }
    }

    /// `c.ram_free` on a Client that has not reported it failed with `'client' object has no attribute
    /// 'ram_free'`: a property the site's files define is `None` until reported; a name no file defines is still an
    /// error (a typo is caught).
    @Test func aDefinedPropertyNotYetReportedIsNone() async throws {
        let site = try loadSite(
            """
            [manager]
            default_triggers = no

            [ram_free]
            command = ram
            parameters = MemFree
            return_type = int
            ticks = 60

            [guarded]
            expr = { len([c for c in manager.clients if c.ram_free == None and c.age("ram_free") == None]) == 1 }
            cmd = { log("not reported yet") }
            ticks = 5

            [typo]
            expr = { len([c for c in manager.clients if c.ram_fre == None]) == 1 }
            cmd = { log("never") }
            ticks = 5
            """)
        try await Harness.run(site: site) { h in
            let silent = WireFakeClient(
                bus: h.bus,
                identity: ClientIdentity(name: "quiet", role: .dom0, host: "quiet", version: "1.0.0", incarnation: 1),
                properties: [:])
            try await h.with([silent]) {
                await h.advance(by: 5)
                #expect(h.stats("guarded")?.evaluations == 1 && h.stats("typo")?.evaluations == 1)
                #expect(h.stats("guarded")?.errors == 0 && h.stats("guarded")?.fired == 1, "\(String(describing: h.stats("guarded")))")
                #expect(h.stats("typo")?.lastError?.contains("'client' object has no attribute 'ram_fre'") == true)
            }
        }
    }
}
