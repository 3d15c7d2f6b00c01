import Dispatch
import Synchronization
import VEMBus
import VEMProtocol

/// One session of one Client, as the Manager's engine sees it: a ``ManagerLink`` whose messages go to the
/// Client's subject, stamped with the session id.
final class NATSManagerLink: ManagerLink {
    let name: String
    let session: UInt64
    let incarnation: UInt64
    let note: NATSEnvelope.ConnectionNote?
    /// The address the Client's NATS connection came from (known from a `$SYS` CONNECT advisory, when the
    /// Manager has a system user and the advisory arrived before the `hello`).
    let peerAddress: String?
    let phase = Mutex<LinkPhase>(.awaitingHello)
    let lastHeard: Atomic<UInt64>
    let closed = Atomic<Bool>(false)
    unowned let bus: NATSManagerBus

    init(
        name: String, session: UInt64, incarnation: UInt64, note: NATSEnvelope.ConnectionNote?, peerAddress: String?,
        bus: NATSManagerBus
    ) {
        self.peerAddress = peerAddress
        self.name = name
        self.session = session
        self.incarnation = incarnation
        self.note = note
        self.bus = bus
        lastHeard = Atomic(monotonicNanoseconds())
    }

    var peer: String {
        let server = note.map { " via \($0.serverID.prefix(8))…/cid \($0.cid)" } ?? ""
        return "nats:\(name)#\(String(session, radix: 16))\(server)"
    }

    func transmit(_ messages: [Message]) {
        bus.publish(NATSEnvelope(session: session, messages: messages), to: bus.subjects.client(name))
    }

    func close(reason: String) { bus.closeLink(self, reason: reason) }
}

/// What the Manager remembers per Client name: its current session (if any) and the newest session seen, so that
/// a late `hello` of an older session is recognised as stale.
struct SessionEntry {
    var link: NATSManagerLink?
    var incarnation: UInt64
    var newestSession: UInt64
}

/// Nanoseconds of a monotonic clock.
func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

extension Duration {
    /// Whole nanoseconds (clamped).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max : whole + UInt64(attoseconds / 1_000_000_000)
    }
}
