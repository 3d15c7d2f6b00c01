import Foundation
import Testing
import VEMAgent
import VEMBus
import VEMProtocol

@testable import VEMClient
@testable import VEMClientCore

@Suite("Client: the Reader on the in-memory bus")
struct PropertyTests {
    static let ramFree = """
        [client]
        name = node01

        [ram_free]
        command = ram
        parameters = MemFree
        return_type = int
        ticks = 60

        """

    @Test("get_property is answered from the cache, not by reading again")
    func answeredFromCache() async throws {
        try await withHarness(config: Self.ramFree) { h in
            try await h.waitForSample("ram_free")
            try h.write("/proc/meminfo", meminfo(memFree: 1234))
            let first = try await h.ask(["ram_free"])
            #expect(value(first, "ram_free") == .int(23_329_220))
            // The next collection (one `ticks` later) picks the new value up.
            h.clock.advance(by: 60)
            try await eventually("the second collection") {
                await h.service.lastSample(of: "ram_free")?.result.value == .int(1234)
            }
            let second = try await h.ask([])
            #expect(value(second, "ram_free") == .int(1234))
            // Timestamps are the collection times, in Unix milliseconds from the clock.
            #expect(second.readings.first?.timestampMilliseconds == 1_700_000_060_000)
        }
    }

    @Test("a Client without properties still answers a property round (with no readings)")
    func emptyAnswer() async throws {
        try await withHarness(config: "[client]\nname = node01\n") { h in
            let round = await h.bus.collectProperties([], from: .client(h.name), timeout: .seconds(60))
            #expect(round.missing.isEmpty)
            #expect(round.replies[h.name]?.readings == [])
        }
    }

    @Test("a ticks = 0 property is read on demand; an unknown name is an error reading")
    func onDemandAndUnknown() async throws {
        try await withHarness(
            config: """
                [client]
                name = node01
                [load1]
                command = load
                parameters = 1
                return_type = float
                ticks = 0
                """
        ) { h in
            #expect(await h.service.lastSample(of: "load1") == nil)
            let report = try await h.ask(["load1", "nope"])
            #expect(report.readings.map(\.name) == ["load1", "nope"])
            #expect(value(report, "load1") == .float(1.41))
            #expect(errorText(report, "nope")?.contains("no property named 'nope'") == true)
            // The clock moving does not collect it.
            try h.write("/proc/loadavg", "9.00 9.00 9.00 1/1 1\n")
            h.clock.advance(by: 3600)
            #expect(value(try await h.ask(["load1"]), "load1") == .float(1.41))
        }
    }

    @Test("push = on_change sends new and changed values only; push = always sends every collection")
    func changePushes() async throws {
        try await withHarness(
            config: """
                [client]
                name = node01
                [ram_free]
                command = ram
                parameters = MemFree
                return_type = int
                ticks = 60
                push = on_change
                [mem_total]
                command = ram
                parameters = MemTotal
                return_type = int
                ticks = 60
                push = always
                [quiet]
                command = ram
                parameters = MemAvailable
                return_type = int
                ticks = 60
                """
        ) { h in
            let name = h.name
            @Sendable func pushed(_ property: String) -> [WireValue] {
                h.log.pushes(from: name).compactMap { value($0, property) }
            }
            try await eventually("the first push") { pushed("ram_free").count == 1 }
            h.clock.advance(by: 60)  // unchanged
            try await eventually("the second always-push") { pushed("mem_total").count == 2 }
            try h.write("/proc/meminfo", meminfo(memFree: 777))
            h.clock.advance(by: 60)  // changed
            try await eventually("the third always-push") { pushed("mem_total").count == 3 }
            // Messages arrive in order: by the third always-push, every ram_free push has arrived.
            #expect(pushed("ram_free") == [.int(23_329_220), .int(777)])
            #expect(pushed("quiet").isEmpty)
        }
    }

    @Test("a hanging plugin is stopped at its timeout, garbage and missing files are error values")
    func badPlugins() async throws {
        try await withHarness(
            config: """
                [client]
                name = node01
                [hangs]
                command = exec
                parameters = /bin/sleep, 30
                return_type = int
                ticks = 0
                [garbage]
                command = exec
                parameters = /bin/echo, not a number
                return_type = int
                ticks = 0
                [crashes]
                command = exec
                parameters = /bin/sh, -c, kill -SEGV $$
                return_type = int
                ticks = 0
                [missing]
                command = uptime
                return_type = float
                ticks = 0
                [ram_free]
                command = ram
                parameters = MemFree
                return_type = int
                ticks = 0
                """,
            tune: { $0.propertyTimeout = .milliseconds(500) }
        ) { h in
            let started = ContinuousClock.now
            let report = try await h.ask([])
            #expect(ContinuousClock.now - started < .seconds(25), "sleep 30 must be stopped at the 0.5 s timeout")
            #expect(errorText(report, "hangs")?.hasPrefix("timeout") == true)
            #expect(errorText(report, "garbage")?.hasPrefix("conversion") == true)
            #expect(errorText(report, "crashes")?.contains("program_failed") == true)
            #expect(errorText(report, "missing")?.hasPrefix("missing_file") == true)
            #expect(value(report, "ram_free") == .int(23_329_220))
        }
    }

    @Test("the Reader keeps collecting while a long command runs")
    func longCommandDoesNotBlockReader() async throws {
        try await withHarness(
            config: """
                [client]
                name = node01
                allow = exec
                exec_allow = /bin/sh
                [ram_free]
                command = ram
                parameters = MemFree
                return_type = int
                ticks = 60
                push = always
                """
        ) { h in
            let name = h.name
            // The first collection may come before the Client is admitted (its push is then not sent): wait for
            // the sample, and count pushes only once a command has reached the Client (so it is connected).
            try await h.waitForSample("ram_free")
            // The command runs until the test releases it, so "still running" does not depend on timing.
            let started = h.directory.appendingPathComponent("started").path
            let release = h.directory.appendingPathComponent("release").path
            let script = "touch \(started); while [ ! -f \(release) ]; do sleep 0.02; done; echo released"
            let pending = try h.bus.submit(
                "exec", arguments: ["/bin/sh", "-c", script].map { NamedValue("", .string($0)) }, to: name)
            try await eventually("the command to start") { FileManager.default.fileExists(atPath: started) }
            h.clock.advance(by: 60)
            try await eventually("the push of the collection at t=60, during the command") {
                h.log.pushes(from: name).contains { $0.readings.contains { $0.timestampMilliseconds == 1_700_000_060_000 } }
            }
            #expect(pending.currentOutcome == nil, "the command should still be running")
            FileManager.default.createFile(atPath: release, contents: nil)
            guard case .result(let result) = await pending.outcome() else {
                Issue.record("no result")
                return
            }
            #expect(result.status == .ok && result.output == "released\n")
        }
    }
}
