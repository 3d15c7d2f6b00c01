import Testing
import VEMBus
import VEMProtocol

@testable import VEMManager

/// Reports that arrive while an on-update pass waits out its debounce wake nobody (no TriggerWatch step, no
/// doorbell): that pass, when its time comes, reads the state with them.
@Suite(.timeLimit(.minutes(2))) struct DebounceWakeTests {
    @Test func reportsWhileAnUpdatePassWaitsWakeNobodyAndThatPassSeesThem() async throws {
        let text = try paperConfiguration() + """

            [saw_last]
            expr = { len([c for c in manager.clients if c.spam == 199]) > 0 }
            cmd = { log("seen") }
            on_update_check = yes
            """
        let site = try loadSite(text)
        try await Harness.run(site: site) { h in
            let watch = h.manager.triggerWatch
            let flooder = FakeClient(bus: h.bus, name: "flooder")
            func report(_ value: Int) throws {
                try flooder.client.send(
                    .property(
                        PropertyReport(readings: [PropertyReading(name: "spam", timestampMilliseconds: 0, value: .int(Int64(value)))])))
            }
            try await h.with([flooder]) {
                // The first report's pass runs at once, unless one ran in the last second; the next waits.
                try report(0)
                await waitUntil("a pass or a debounce") {
                    watch.isUpdatePassWaiting || (h.stats("saw_last")?.evaluations ?? 0) >= 1
                }
                if !watch.isUpdatePassWaiting {
                    try report(1)
                    await waitUntil("an on-update pass waiting out its debounce") { watch.isUpdatePassWaiting }
                }
                let evaluations = h.stats("saw_last")?.evaluations ?? 0
                let steps = watch.steps.load(ordering: .relaxed)
                for value in 2...199 { try report(value) }
                await waitUntil("every report taken") {
                    h.snapshot.clients["flooder"]?.properties["spam"]?.value == .int(199)
                }
                // A report that signalled would hold TriggerWatch's catching up until its step had run.
                await h.settle()
                #expect(watch.steps.load(ordering: .relaxed) == steps, "a report covered by the waiting pass woke a step")
                #expect(h.stats("saw_last")?.evaluations == evaluations)
                #expect(h.stats("saw_last")?.fired == 0)
                // The debounce ends: the waiting pass sees the last report.
                await h.step(by: 1)
                #expect(h.stats("saw_last")?.evaluations == evaluations + 1)
                #expect(h.stats("saw_last")?.fired == 1)
            }
        }
    }
}
