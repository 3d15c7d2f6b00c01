import Foundation
import Synchronization
import Testing
@testable import VEMManager

/// The journal's writes run no higher than the event loops (``BackgroundPriority``): they lower their threads; the
/// caller's thread is left as it is. The tests use one step, the smallest, since a lowered dispatch worker stays
/// lowered for the rest of the test process.
@Suite struct BackgroundPriorityTests {
    /// Runs `body` on a thread of its own (a lowered thread stays lowered: not one of the test runner's).
    private func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            let thread = Thread { c.resume(returning: body()) }
            thread.start()
        }
    }

    @Test func lowersTheCallingThreadOnlyAndNeverRaisesIt() async {
        let (before, lowered, notRaised, untouched) = await onOwnThread { () -> (Int, Int, Int, Int) in
            let before = BackgroundPriority.currentThreadNiceness()
            BackgroundPriority.lowerCurrentThread(by: 2)
            let lowered = BackgroundPriority.currentThreadNiceness()
            BackgroundPriority.lowerCurrentThread(by: 1)
            let notRaised = BackgroundPriority.currentThreadNiceness()
            BackgroundPriority.lowerCurrentThread(by: nil)
            return (before, lowered, notRaised, BackgroundPriority.currentThreadNiceness())
        }
        // The steps count from the base, whatever the thread had (a new thread has the nice value of the one
        // that made it).
        let lowest = BackgroundPriority.baseNiceness + 2
        #expect(lowered == max(before, lowest))
        #expect(notRaised == max(before, lowest))
        #expect(untouched == max(before, lowest))
        // The other threads keep theirs.
        let elsewhere = await onOwnThread { BackgroundPriority.currentThreadNiceness() }
        #expect(elsewhere == before)
    }

    /// The nice values of the threads a journal with `steps` wrote one command on.
    private func writeNiceness(steps: Int) async throws -> [Int] {
        let seen = Mutex<[Int]>([])
        let journal = try Journal(
            path: nil, onWrite: { seen.withLock { $0.append(BackgroundPriority.currentThreadNiceness()) } },
            backgroundNiceness: steps)
        _ = try await journal.insertCommand(client: "h1", seq: 1, name: "c", arguments: [], trigger: nil, at: 1)
        return seen.withLock { $0 }
    }

    @Test func theJournalWritesAtItsNiceValue() async throws {
        let values = try await writeNiceness(steps: 1)
        #expect(!values.isEmpty)
        #expect(values.allSatisfy { $0 >= BackgroundPriority.baseNiceness + 1 })
    }

    @Test func theJournalAtStepZeroComesDownToTheBaseNotBelow() async throws {
        let values = try await writeNiceness(steps: 0)
        #expect(!values.isEmpty)
        // GRDB's queue asks for userInitiated (nice -2 for a privileged process): never above the base now.
        #expect(values.allSatisfy { $0 >= BackgroundPriority.baseNiceness })
    }
}
