import Testing
import VEMCore

@testable import VEMAgent

func definition(_ name: String, ticks: Double, plugin: String = "ram", _ parameters: [String] = ["MemFree"])
    -> ScheduledProperty
{
    ScheduledProperty(
        PropertyRequest(name: name, plugin: plugin, parameters: parameters, returnType: .int), ticks: ticks)
}

@Suite struct ReaderScheduleTests {
    @Test func withoutJitterTicksAreHonouredExactly() throws {
        var s = try ReaderSchedule(
            definitions: [definition("fast", ticks: 10), definition("slow", ticks: 30)], start: 100, jitter: 0)
        #expect(s.due(at: 100) == ["fast", "slow"])
        #expect(s.due(at: 100) == [])
        #expect(s.due(at: 109.9) == [])
        #expect(s.due(at: 110) == ["fast"])
        #expect(s.due(at: 120) == ["fast"])
        #expect(s.nextDue == 130)
        #expect(s.due(at: 130) == ["fast", "slow"])
        #expect(s.nextDue(of: "slow") == 160)
    }

    @Test func aLateCallerSkipsMissedSlotsInsteadOfCatchingUp() throws {
        var s = try ReaderSchedule(definitions: [definition("p", ticks: 10)], start: 0, jitter: 0)
        #expect(s.due(at: 0) == ["p"])
        #expect(s.due(at: 55) == ["p"])
        #expect(s.due(at: 56) == [])
        #expect(s.nextDue == 60)
    }

    @Test func jitterIsBoundedAndStaysOnTheGrid() throws {
        let ticks = 60.0
        let jitter = 0.2
        var s = try ReaderSchedule(definitions: [definition("p", ticks: ticks)], start: 1000, jitter: jitter, seed: 7)
        var times: [Double] = []
        var now = 1000.0
        while times.count < 200 {
            if !s.due(at: now).isEmpty { times.append(now) }
            now = try #require(s.nextDue)
        }
        for (k, t) in times.enumerated() {
            let nominal = 1000 + Double(k) * ticks
            #expect(t >= nominal && t < nominal + jitter * ticks)
        }
        for (a, b) in zip(times, times.dropFirst()) {
            #expect(b - a >= ticks * (1 - jitter) && b - a <= ticks * (1 + jitter))
        }
        #expect(Set(times.map { ($0 - 1000).truncatingRemainder(dividingBy: ticks) }).count > 150)
    }

    @Test func jitterIsDeterministicPerSeedAndSpreadsProperties() throws {
        let defs = (0..<20).map { definition("p\($0)", ticks: 30) }
        let a = try ReaderSchedule(definitions: defs, start: 0, jitter: 0.5, seed: 42)
        let b = try ReaderSchedule(definitions: defs, start: 0, jitter: 0.5, seed: 42)
        let c = try ReaderSchedule(definitions: defs, start: 0, jitter: 0.5, seed: 43)
        let slotsA = defs.map { a.collectionTime(of: $0.name, slot: 5) }
        #expect(slotsA == defs.map { b.collectionTime(of: $0.name, slot: 5) })
        #expect(slotsA != defs.map { c.collectionTime(of: $0.name, slot: 5) })
        #expect(Set(defs.map { a.nextDue(of: $0.name) }).count == 20)
        #expect(ReaderSchedule.seed(forClient: "node07") == ReaderSchedule.seed(forClient: "node07"))
        #expect(ReaderSchedule.seed(forClient: "node07") != ReaderSchedule.seed(forClient: "node08"))
    }

    @Test func badDefinitionsAreRejected() {
        #expect(throws: AgentError.self) { try ReaderSchedule(definitions: [definition("p", ticks: 0)], start: 0) }
        #expect(throws: AgentError.self) { try ReaderSchedule(definitions: [definition("p", ticks: .nan)], start: 0) }
        #expect(throws: AgentError.self) {
            try ReaderSchedule(definitions: [definition("p", ticks: 1), definition("p", ticks: 2)], start: 0)
        }
    }
}

@Suite struct PropertyCacheTests {
    @Test func detectsChangesButNotTimestamps() {
        var cache = PropertyCache()
        #expect(cache.record(PropertySample(name: "a", result: .success(.int(1)), timestamp: 0)) == .new)
        #expect(cache.record(PropertySample(name: "a", result: .success(.int(1)), timestamp: 5)) == .unchanged)
        #expect(cache.record(PropertySample(name: "a", result: .success(.int(2)), timestamp: 6)) == .changed)
        let failure = PropertyResult.failure(AgentError(.missingFile, "gone"))
        #expect(cache.record(PropertySample(name: "a", result: failure, timestamp: 7)) == .changed)
        #expect(cache.record(PropertySample(name: "a", result: failure, timestamp: 8)).shouldPush == false)
        #expect(cache["a"]?.timestamp == 8)
        #expect(cache.record(PropertySample(name: "b", result: failure, timestamp: 8)).shouldPush)
        #expect(cache.all.map(\.name) == ["a", "b"])
        cache.remove("a")
        #expect(cache["a"] == nil)
    }
}

@Suite struct ReaderTests {
    @Test func collectsDuePropertiesOnAFakeClockAndReportsChanges() async throws {
        let root = try ScratchRoot()
        defer { root.remove() }
        try root.write("/proc/meminfo", "MemFree: 100 kB\nMemTotal: 200 kB\n")
        let clock = ManualTimeline(start: 50)
        let reader = try Reader(
            definitions: [definition("free", ticks: 10), definition("total", ticks: 60, ["MemTotal"])],
            registry: PluginRegistry.builtin(root: root.path), clock: clock, jitter: 0)

        let first = await reader.collectDue()
        #expect(first.map(\.sample.name) == ["free", "total"])
        #expect(first.map(\.change) == [.new, .new])
        #expect(first[0].sample == PropertySample(name: "free", result: .success(.int(100)), timestamp: 50))
        #expect(await reader.collectDue().isEmpty)

        clock.advance(by: 10)
        let same = await reader.collectDue()
        #expect(same.map(\.sample.name) == ["free"])
        #expect(same.map(\.change) == [.unchanged])

        try root.write("/proc/meminfo", "MemFree: 90 kB\nMemTotal: 200 kB\n")
        clock.advance(by: 10)
        let changed = await reader.collectDue()
        #expect(changed.map(\.change) == [.changed])
        #expect(await reader.lastSample(of: "free")?.result == .success(.int(90)))
        #expect(await reader.nextDue == 80)
    }

    @Test func refreshReadsNamedPropertiesOutsideTheSchedule() async throws {
        let clock = ManualTimeline()
        let reader = try Reader(
            definitions: [definition("free", ticks: 60), definition("load", ticks: 60, plugin: "load", [])],
            registry: try registry("proc-basic"), clock: clock, jitter: 0)
        let (updates, unknown) = await reader.refresh(["load", "nope"])
        #expect(updates.map(\.sample.name) == ["load"])
        #expect(unknown == ["nope"])
        #expect(await reader.refresh([]).updates.map(\.sample.name) == ["free", "load"])
        #expect(await reader.collectDue().map(\.change) == [.unchanged, .unchanged])
    }
}
