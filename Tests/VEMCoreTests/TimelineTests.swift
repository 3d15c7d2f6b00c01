import Testing
import VEMCore

@Suite struct TimelineTests {
    @Test func sleepersWakeWhenTheTimelinePassesTheirDeadline() async throws {
        let timeline = ManualTimeline(start: 10)
        let woke = Task { try await timeline.sleep(until: 15); return timeline.now() }
        while timeline.sleeperCount == 0 { await Task.yield() }
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
        while timeline.sleeperCount == 0 { await Task.yield() }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(timeline.sleeperCount == 0)
    }
}
