import Foundation
import Testing
import VEMManager
import VEMTestKit

/// At most one `policy.rebalance()` waits in the Sender's queue: it reads the state when it runs, so a second
/// one queued behind it would plan from the same news again.
@Suite(.timeLimit(.minutes(2))) struct CoalescingTests {
    @Test func rebalancesQueuedBehindOneAreDroppedAndTheActivityEndsQuiet() async throws {
        let site = try loadSite(RebalanceTests.configuration)
        var options = ManagerService.Options()
        (options.journal, options.clock) = (try Journal(path: nil), ManualClock(start: 1_700_000_000))
        options.logger.logLevel = .critical
        options.transport = { engine throws(ManagerError) in
            ManagerBusEndpoint(bus: InMemoryBus(configuration: engine, faults: .none), description: "memory")
        }
        let service = try await ManagerService.start(site: site, options: options)
        let sender = service.manager.sender
        // Queued before the Sender runs: fifty triggers' rebalances, one of them with another action after it.
        for i in 0..<49 { sender.enqueue([.rebalance], trigger: "t\(i)") }
        sender.enqueue([.rebalance, .log("after"), .rebalance], trigger: "last")
        #expect(sender.rebalancesCoalesced == 49)
        #expect(service.manager.activity.isQuiet == false)
        let run = Task { await sender.run() }
        defer { run.cancel() }
        await service.manager.activity.quiet()
        // One pass ran (it found no batch Client: the pass is recorded all the same).
        #expect(sender.passTimings.take().pass.count == 1)
        let decisions = try await service.manager.journal.recentDecisions()
        #expect(decisions.filter { $0.action == "policy.rebalance()" }.count == 1)
        #expect(decisions.contains { $0.action.contains("after") })
        // A rebalance asked for once the queued one has started is queued again.
        sender.enqueue([.rebalance], trigger: "again")
        await service.manager.activity.quiet()
        #expect(sender.passTimings.take().pass.count == 2)
        #expect(sender.rebalancesCoalesced == 49)
    }
}
