import Logging
import Testing
import VEMBus
import VEMProtocol
import VEMRules
import VEMTestKit

@testable import VEMManager

/// The Listener takes a property reply on the bus's thread (``Listener/take(_:from:)``), without a task switch
/// through the event stream, but never ahead of what the stream still carries for the state: the Client's join,
/// or a message it declined earlier.
@Suite struct PropertyIntakeTests {
    let state = ManagerState()
    let h1 = ClientIdentity(name: "h1", role: .dom0, host: "h1", version: "1", incarnation: 1)

    func listener() throws -> Listener {
        Listener(
            bus: InMemoryBus(), journal: try Journal(path: nil), state: state, clock: ManualClock(start: 100),
            logger: Logger(label: "test"), propertiesUpdated: { _ in })
    }

    func report(_ free: Int64) -> Message {
        .property(
            PropertyReport(readings: [PropertyReading(name: "ram_free", timestampMilliseconds: 0, value: .int(free))]))
    }

    func ramFree() -> JSON? { state.snapshot(at: 200).clients["h1"]?.properties["ram_free"]?.value }

    @Test func aReplyFromAConnectedClientGoesIntoTheStateAtOnce() throws {
        let listener = try listener()
        state.clientJoined(h1, at: 1)
        #expect(listener.take(report(5), from: h1))
        #expect(ramFree() == .int(5))
        #expect(listener.take(.event(Event(kind: "e")), from: h1))
        #expect(state.snapshot(at: 200).clients["h1"]?.lastSeen == 100)
    }

    @Test func aReplyWaitsBehindItsJoinAndEverythingWaitsBehindADeclinedMessage() async throws {
        let listener = try listener()
        let other = ClientIdentity(name: "h2", role: .dom0, host: "h2", version: "1", incarnation: 1)
        state.clientJoined(other, at: 1)
        // h1's join is still in the stream: its reply is declined, and so is h2's behind it.
        #expect(!listener.take(report(1), from: h1))
        #expect(!listener.take(report(2), from: other))
        #expect(ramFree() == nil)
        // The stream hands over the join, then the two declined messages, in order.
        await listener.handle(.join(h1, resumed: false))
        #expect(!listener.take(report(3), from: h1), "two declined messages are still in the stream")
        await listener.handle(.message(from: "h1", report(1)))
        await listener.handle(.message(from: "h2", report(2)))
        await listener.handle(.message(from: "h1", report(3)))
        #expect(ramFree() == .int(3))
        // Nothing left behind: taken at once again.
        #expect(listener.take(report(4), from: h1))
        #expect(ramFree() == .int(4))
    }

    @Test func aReplyFromANewIncarnationWaitsForItsJoin() throws {
        let listener = try listener()
        state.clientJoined(h1, at: 1)
        var restarted = h1
        restarted.incarnation = 2
        #expect(!listener.take(report(7), from: restarted))
        #expect(ramFree() == nil)
        state.clientGone("h1", reason: "closed", at: 2)
        #expect(!state.recordPropertiesIfCurrent(PropertyReport(readings: []), from: h1, at: 3), "not connected")
    }
}
