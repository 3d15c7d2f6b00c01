import Testing
import VEMCore

/// Waits until `timeline` has `count` sleepers, polling every millisecond rather than spinning on `Task.yield()`
/// (which keeps a cooperative thread busy: the pure suites' synchronous tests already hold both). No time limit:
/// on a loaded machine these two tests have waited 70–120 s for a thread, behind the CPU-bound pure suites.
func waitForSleepers(_ timeline: ManualTimeline, count: Int = 1) async throws {
    while timeline.sleeperCount < count { try await Task.sleep(for: .milliseconds(1)) }
}

@Suite struct TimelineTests {
    @Test func sleepersWakeWhenTheTimelinePassesTheirDeadline() async throws {
        let timeline = ManualTimeline(start: 10)
        let woke = Task { try await timeline.sleep(until: 15); return timeline.now() }
        try await waitForSleepers(timeline)
        #expect(timeline.nextDeadline == 15)
        timeline.advance(by: 4)
        #expect(timeline.sleeperCount == 1)
        timeline.advance(by: -100)  // ignored: never back
        #expect(timeline.now() == 14)
        timeline.advance(by: 1)
        #expect(try await woke.value == 15)
        #expect(timeline.sleeperCount == 0 && timeline.nextDeadline == nil)
        // A deadline already reached returns at once.
        try await timeline.sleep(until: 3)
    }

    @Test func aCancelledSleeperThrowsAndIsForgotten() async throws {
        let timeline = ManualTimeline()
        let sleeper = Task { try await timeline.sleep(until: 1_000) }
        try await waitForSleepers(timeline)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(timeline.sleeperCount == 0)
    }
}
