import Testing

@testable import VEMManager

/// TriggerWatch's instance on its own: time and events in, passes and wake-ups out. No clock, no tasks.
@Suite struct TriggerScheduleTests {
    typealias Entry = TriggerSchedule.Entry

    @Test func aPeriodicTriggerIsDueEveryTicksSecondsFromItsStart() {
        var s = TriggerSchedule([Entry(ticks: 30, onUpdate: false)], since: 100)
        #expect(s.nextWake == 130)
        let r1 = s.tick(at: 129)
        #expect(r1 == [.wake(at: 130)])
        let r2 = s.tick(at: 130)
        #expect(r2 == [.evaluate([0], generation: 0, reason: .tick), .wake(at: 160)])
        // Woken again at the same instant (a test catching up, a spurious wake-up): nothing more is due.
        let r3 = s.tick(at: 130)
        #expect(r3 == [.wake(at: 160)])
    }

    @Test func aShellThatFellBehindSkipsTheMissedTicks() {
        var s = TriggerSchedule([Entry(ticks: 30, onUpdate: false)], since: 0)
        let r4 = s.tick(at: 95)
        #expect(r4 == [.evaluate([0], generation: 0, reason: .tick), .wake(at: 125)])
    }

    @Test func triggersDueAtTheSameInstantShareOnePassInConfigurationOrder() {
        var s = TriggerSchedule(
            [Entry(ticks: 20, onUpdate: false), Entry(ticks: 0, onUpdate: true), Entry(ticks: 10, onUpdate: false)],
            since: 0)
        let r5 = s.tick(at: 10)
        #expect(r5 == [.evaluate([2], generation: 0, reason: .tick), .wake(at: 20)])
        let r6 = s.tick(at: 20)
        #expect(r6 == [.evaluate([0, 2], generation: 0, reason: .tick), .wake(at: 30)])
    }

    @Test func updatesAreDebouncedAndABurstIsCoveredByOnePass() {
        var s = TriggerSchedule([Entry(ticks: 0, onUpdate: true), Entry(ticks: 60, onUpdate: false)], since: 0)
        // The first update runs a pass at once.
        let r7 = s.propertiesArrived(at: 10)
        #expect(r7 == [.evaluate([0], generation: 0, reason: .update), .wake(at: 60)])
        // Within the second after it: one pass, when the second is over, for the whole burst.
        let r8 = s.propertiesArrived(at: 10.2)
        #expect(r8 == [.wake(at: 11)])
        #expect(s.updatePassWaiting)
        let r9 = s.propertiesArrived(at: 10.7)
        #expect(r9 == [.wake(at: 11)])
        let r10 = s.tick(at: 10.9)
        #expect(r10 == [.wake(at: 11)])
        let r11 = s.tick(at: 11)
        #expect(r11 == [.evaluate([0], generation: 0, reason: .update), .wake(at: 60)])
        #expect(!s.updatePassWaiting)
        // Later than a second after the last pass: at once again.
        let r12 = s.propertiesArrived(at: 13)
        #expect(r12 == [.evaluate([0], generation: 0, reason: .update), .wake(at: 60)])
    }

    @Test func updatesAskNothingOfASiteWithoutOnUpdateTriggers() {
        var s = TriggerSchedule([Entry(ticks: 30, onUpdate: false)], since: 0)
        let r13 = s.propertiesArrived(at: 5)
        #expect(r13 == [])
        #expect(!s.updatePassWaiting)
        #expect(s.nextWake == 30)
    }

    @Test func aReloadStartsANewGenerationTickingFromItsSwap() {
        var s = TriggerSchedule([Entry(ticks: 30, onUpdate: false)], since: 0)
        // Swapped at 20, told at 25: the old tick at 30 is dropped, the new triggers count from 20, and the
        // on-update one sees the state at once.
        let actions = s.reload(
            [Entry(ticks: 0, onUpdate: true), Entry(ticks: 15, onUpdate: false)], generation: 1, since: 20, at: 25)
        #expect(actions == [.evaluate([0], generation: 1, reason: .update), .wake(at: 35)])
        let r14 = s.tick(at: 30)
        #expect(r14 == [.wake(at: 35)])
        let r15 = s.tick(at: 35)
        #expect(r15 == [.evaluate([1], generation: 1, reason: .tick), .wake(at: 50)])
    }

    @Test func aScheduleWithNothingPeriodicSleepsUntilSomethingHappens() {
        var s = TriggerSchedule([Entry(ticks: 0, onUpdate: true)], since: 0)
        #expect(s.nextWake == nil)
        let r16 = s.tick(at: 1_000)
        #expect(r16 == [.wake(at: nil)])
    }
}
