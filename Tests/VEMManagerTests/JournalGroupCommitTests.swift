import Foundation
import Synchronization
import Testing
@testable import VEMManager

/// Command updates asked for while a transaction runs share the next one (``UpdateQueue``), and each caller still
/// learns whether its own row changed.
@Suite struct JournalGroupCommitTests {
    @Test func updatesQueuedDuringATransactionShareTheNextOne() async throws {
        let gate = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        let gating = Atomic<Bool>(false)
        let transactions = Atomic<Int>(0)
        let journal = try Journal(path: nil) {
            guard gating.load(ordering: .acquiring) else { return }
            // The first transaction of updates holds the journal until every other update is queued.
            if transactions.add(1, ordering: .acquiringAndReleasing).newValue == 1 {
                entered.signal()
                gate.wait()
            }
        }
        for seq in UInt64(1)...20 {
            _ = try await journal.insertCommand(client: "h1", seq: seq, name: "c", arguments: [], trigger: nil, at: 1)
        }
        gating.store(true, ordering: .releasing)
        let first = Task { try await journal.update(client: "h1", seq: 1, to: .done, result: "ok", at: 2) }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                entered.wait()
                c.resume()
            }
        }
        let rest = (UInt64(2)...20).map { seq in
            Task { try await journal.update(client: "h1", seq: seq, to: .done, result: "ok", at: 2) }
        }
        while journal.updates.waiting < rest.count { await Task.yield() }
        gate.signal()
        #expect(try await first.value)
        for task in rest { #expect(try await task.value) }
        #expect(transactions.load(ordering: .acquiring) == 2)
        // A final state sticks: the same updates again change nothing, each told so.
        gating.store(false, ordering: .releasing)
        let again = (UInt64(1)...20).map { seq in
            Task { try await journal.update(client: "h1", seq: seq, to: .failed, at: 3) }
        }
        for task in again { #expect(try await !task.value) }
        let counts = try await journal.commandCounts()
        #expect(counts == ["done": 20])
    }
}
