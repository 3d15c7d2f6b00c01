import Foundation
import Testing
import VEMBus
import VEMManager
import VEMProtocol

/// `journal_retention`: old decisions and finished commands go; what a restart needs stays.
@Suite(.timeLimit(.minutes(2))) struct RetentionTests {
    let identity = ClientIdentity(name: "h1", role: .dom0, host: "h1", version: "1.0.0", incarnation: 7)

    @Test func pruningKeepsTheNewestCommandAndTheOpenTailOfEachClient() async throws {
        let journal = try Journal(path: nil)
        try await journal.recordClient(identity, at: 0)
        // h1: 1…4 done long ago, 5 still open (sent), 6 done long ago after it; h2: 1…2 done long ago.
        for seq in 1...6 {
            _ = try await journal.insertCommand(client: "h1", seq: UInt64(seq), name: "c\(seq)", arguments: [], trigger: "t", at: 10)
            if seq != 5 { try await journal.update(client: "h1", seq: UInt64(seq), to: .done, result: "ok", at: 20) }
        }
        try await journal.update(client: "h1", seq: 5, to: .sent, at: 20)
        for seq in 1...2 {
            _ = try await journal.insertCommand(client: "h2", seq: UInt64(seq), name: "d\(seq)", arguments: [], trigger: "t", at: 10)
            try await journal.update(client: "h2", seq: UInt64(seq), to: .failed, result: "no", at: 20)
        }
        for t in [5.0, 50, 500] {
            try await journal.recordDecision(DecisionRecord(time: t, trigger: "t", action: "a", reason: "at \(t)"))
        }
        func summary(_ plan: RecoveryPlan) -> [String] {
            plan.streams.map { "\($0.identity.name) after \($0.startingAfter): \($0.commands.map(\.seq))" }
                + plan.abandoned.map { "abandoned \($0.client)/\($0.seq)" }
        }
        let plan = summary(try await journal.recoveryPlan())
        #expect(plan == ["h1 after 4: [5, 6]"])

        let pruned = try await journal.prune(before: 100)
        #expect(pruned.decisions == 2)
        #expect(pruned.commands == 5)  // h1 1…4, h2 1
        let left = try await journal.allCommands().map { "\($0.client)/\($0.seq)" }.sorted()
        #expect(left == ["h1/5", "h1/6", "h2/2"])
        #expect(try await journal.recentDecisions().map(\.reason) == ["at 500.0"])
        // A restart resumes exactly as before the pruning.
        #expect(summary(try await journal.recoveryPlan()) == plan)
        // Nothing is old enough any more.
        #expect(try await journal.prune(before: 100) == Journal.Pruned())
    }

    @Test func theManagerPrunesOnItsClockByItsRetention() async throws {
        let site = try loadSite("[manager]\njournal_retention = 2h\n")
        #expect(site.configuration.manager?.journalRetention == 7_200)
        let journal = try Journal(path: nil)
        let start = 1_700_000_000.0
        try await journal.recordDecision(DecisionRecord(time: start - 7_300, trigger: "t", action: "a", reason: "old"))
        try await journal.recordDecision(DecisionRecord(time: start - 100, trigger: "t", action: "a", reason: "recent"))
        try await Harness.run(site: site, journal: journal) { h in
            // The first pass runs at start: only what is older than two hours goes.
            await h.manager.pruner.caughtUp(to: h.clock.now())
            let atStart = try await h.journal.recentDecisions().map(\.reason)
            #expect(atStart == ["recent"])
            // Passes every hour of Manager time: an hour on, "recent" is still within the retention; two more
            // hours on (the clock moving twice before the pruner wakes: one pass), past it too.
            h.clock.advance(by: 3_600)
            await h.manager.pruner.caughtUp(to: h.clock.now())
            let anHourOn = try await h.journal.recentDecisions().map(\.reason)
            #expect(anHourOn == ["recent"])
            h.clock.advance(by: 3_600)
            h.clock.advance(by: 3_600)
            await h.manager.pruner.caughtUp(to: h.clock.now())
            let threeHoursOn = try await h.journal.recentDecisions()
            #expect(threeHoursOn.isEmpty)
        }
    }
}
