import Logging
import Synchronization
import Testing
import VEMBus
import VEMProtocol

@testable import VEMHub
import VEMCore

/// The admission and connection limits of issue 17 as pure values: names, tokens, roles, floods, back-off.
@Suite("Trust (pure)")
struct TrustTests {
    func hello(
        _ name: String = "host1", role: ClientRole = .dom0, host: String = "host1", group: String? = nil,
        vmID: String? = nil, token: String = "t"
    ) -> Hello {
        Hello(name: name, role: role, host: host, group: group, vmID: vmID, version: "1.0.0", incarnation: 1, token: token)
    }

    @Test func namesAreHostNameWords() {
        let admission = Admission(sharedToken: "t")
        #expect(admission.check(hello("atlas-vm-12.example_1")) == nil)
        for bad in [
            "evil:2222/system?no_verify=1&x=", "a\nclient joined", "\u{1B}[31mred", "a b", "-a", ".a", "é",
            String(repeating: "a", count: 254), "a/b", "a@b", "",
        ] {
            #expect(admission.check(hello(bad))?.reason == .forbidden, "\(bad.debugDescription)")
            #expect(admission.check(hello(host: bad))?.reason == .forbidden, "host \(bad.debugDescription)")
            #expect(admission.check(hello(group: bad))?.reason == .forbidden, "group \(bad.debugDescription)")
            #expect(admission.check(hello(vmID: bad))?.reason == .forbidden, "vm \(bad.debugDescription)")
        }
        let refusal = admission.check(hello("a\nb"))
        #expect(refusal?.detail.contains("\n") == false)
    }

    @Test func aCertificateIsTheIdentity() {
        var admission = Admission(sharedToken: "t")
        admission.requiresCertificate = true
        let guest = CertifiedPeer(name: "vm-1", role: "domU", group: "atlas")
        // Itself, whatever token (the certificate is the credential).
        #expect(admission.check(hello("vm-1", role: .domU, group: "atlas", token: ""), certificate: guest) == nil)
        // Another name, another role, another group.
        #expect(admission.check(hello("host1", role: .domU, group: "atlas"), certificate: guest)?.reason == .forbidden)
        #expect(admission.check(hello("vm-1", role: .batch), certificate: guest)?.reason == .forbidden)
        #expect(admission.check(hello("vm-1", role: .dom0), certificate: guest)?.reason == .forbidden)
        #expect(admission.check(hello("vm-1", role: .domU, group: "cms"), certificate: guest)?.reason == .forbidden)
        #expect(admission.check(hello("vm-1", role: .domU), certificate: guest)?.reason == .forbidden)
        // A guest certificate without a group, a Manager's or an operator's certificate.
        let groupless = CertifiedPeer(name: "vm-2", role: "domU")
        #expect(admission.check(hello("vm-2", role: .domU, group: "atlas"), certificate: groupless)?.reason == .forbidden)
        for role in ["manager", "operator"] {
            let peer = CertifiedPeer(name: "m", role: role)
            #expect(admission.check(hello("m"), certificate: peer)?.reason == .forbidden, "\(role)")
        }
        // No certificate at all, even with the right token.
        #expect(admission.check(hello(token: "t"))?.reason == .badCredentials)
        // The refusal names the certificate's holder, never the hello's claim.
        let refusal = admission.check(hello("forged-name"), certificate: CertifiedPeer(name: "host1", role: "dom0"))
        #expect(refusal?.detail.contains("forged-name") == false)
        #expect(refusal?.detail.contains("host1") == true)
    }

    @Test func tokensAreComparedOverTheirFullLength() {
        let admission = Admission(sharedToken: "s3cret")
        #expect(admission.check(hello(token: "s3cret")) == nil)
        // The probe: the token followed by 256 NUL bytes (the length difference was reduced to 8 bits).
        #expect(admission.check(hello(token: "s3cret" + String(repeating: "\0", count: 256)))?.reason == .badCredentials)
        #expect(admission.check(hello(token: "s3cret" + String(repeating: "\0", count: 512)))?.reason == .badCredentials)
        #expect(admission.check(hello(token: "s3cre"))?.reason == .badCredentials)
        #expect(admission.check(hello(token: "s3creT"))?.reason == .badCredentials)
    }

    @Test func aTokenIsBoundToItsRole() {
        let admission = Admission(
            sharedToken: "guests",
            perClientTokens: ["host1": .init(token: "h1", role: .dom0), "ctl": .init(token: "b", role: .batch)],
            sharedTokenRoles: [.domU])
        #expect(admission.check(hello("host1", token: "h1")) == nil)
        #expect(admission.check(hello("ctl", role: .batch, token: "b")) == nil)
        #expect(admission.check(hello("vm-1", role: .domU, group: "atlas", vmID: "vm-1", token: "guests")) == nil)
        // A guest's token cannot join as a Dom0 or batch Client, nor under a host's name.
        #expect(admission.check(hello("fake-host", role: .dom0, token: "guests"))?.reason == .forbidden)
        #expect(admission.check(hello("fake-batch", role: .batch, token: "guests"))?.reason == .forbidden)
        #expect(admission.check(hello("host1", role: .domU, token: "guests"))?.reason == .badCredentials)
        // A host's token cannot claim another role.
        #expect(admission.check(hello("host1", role: .batch, token: "h1"))?.reason == .forbidden)
        #expect(admission.check(hello("ctl", role: .dom0, token: "b"))?.reason == .forbidden)
    }

    @Test func connectionLimitsCountTotalsAndAddresses() {
        var limits = ConnectionLimits(maximumConnections: 4, maximumPerAddress: 2, backoff: .init())
        #expect(limits.open("10.0.0.1", now: 0) == nil)
        #expect(limits.open("10.0.0.1", now: 0) == nil)
        #expect(limits.open("10.0.0.1", now: 0) == .tooManyFromAddress(2))
        #expect(limits.open("10.0.0.2", now: 0) == nil)
        #expect(limits.open(nil, now: 0) == nil)
        #expect(limits.open("10.0.0.3", now: 0) == .tooManyConnections(4))
        limits.close("10.0.0.1")
        #expect(limits.open("10.0.0.1", now: 0) == nil)
        limits.close("10.0.0.1")
        limits.close("10.0.0.1")
        #expect(limits.perAddress["10.0.0.1"] == nil)
        #expect(limits.total == 2)
    }

    @Test func failedLoginsBackOffAndASuccessForgives() {
        let second: Int64 = 1_000_000_000
        var table = LoginBackoffTable(configuration: .init(freeFailures: 3, initialDelay: .seconds(1), maximumDelay: .seconds(8)))
        for _ in 0..<3 { #expect(table.failed("a", now: 0) == .zero) }
        #expect(!table.isBlocked("a", now: 0))
        #expect(table.failed("a", now: 0) == .seconds(1))
        #expect(table.isBlocked("a", now: second / 2))
        #expect(!table.isBlocked("a", now: second))
        #expect(table.failed("a", now: second) == .seconds(2))
        #expect(table.failed("a", now: 3 * second) == .seconds(4))
        #expect(table.failed("a", now: 7 * second) == .seconds(8))
        #expect(table.failed("a", now: 15 * second) == .seconds(8), "capped")
        #expect(!table.isBlocked("b", now: 15 * second), "per address")
        table.succeeded("a")
        #expect(!table.isBlocked("a", now: 15 * second))
        // Failures long ago are forgotten.
        var old = LoginBackoffTable(configuration: .init(freeFailures: 1, forgetAfter: .seconds(10)))
        old.failed("a", now: 0)
        #expect(old.failed("a", now: 11 * second) == .zero)
    }

    @Test func logTextEscapesWhatCouldForgeALine() {
        #expect(LogText.quoted("ok") == "\"ok\"")
        #expect(LogText.quoted("a\nb\u{1B}[31m") == #""a\u{A}b\u{1B}[31m""#)
        #expect(LogText.quoted(String(repeating: "x", count: 500)).count == LogText.limit + 3)
    }
}

/// The engine's own rules: `vm.*` reaches Dom0 Clients only, and a live incarnation is taken over only from the
/// address it is connected from.
@Suite("Trust (engine)")
struct EngineTrustTests {
    final class Link: ManagerLink {
        let peer: String
        let peerAddress: String?
        let sent = Mutex<[Message]>([])
        let closed = Mutex<String?>(nil)
        init(_ address: String) {
            peer = address + ":1"
            peerAddress = address
        }
        func transmit(_ messages: [Message]) { sent.withLock { $0 += messages } }
        func close(reason: String) { closed.withLock { $0 = reason } }
    }

    func hello(_ name: String, role: ClientRole, incarnation: UInt64 = 1) -> Message {
        .hello(
            Hello(
                name: name, role: role, host: "h", group: role == .domU ? "g" : nil, vmID: role == .domU ? name : nil,
                version: "1.0.0", incarnation: incarnation, token: "t"))
    }

    @Test func vmCommandsGoToDom0ClientsOnly() throws {
        let engine = ManagerEngine(configuration: .init(admission: Admission(sharedToken: "t")), logger: Logger(label: "t"))
        for (name, role) in [("vm1", ClientRole.domU), ("ctl", .batch), ("host1", .dom0)] {
            var phase = LinkPhase.awaitingHello
            #expect(engine.handle(hello(name, role: role), phase: &phase, link: Link("10.0.0.1")) == .proceed)
        }
        for client in ["vm1", "ctl"] {
            #expect(throws: BusError.self) { try engine.submit("vm.create", arguments: [], to: client) }
            _ = try engine.submit("greet", arguments: [], to: client)
        }
        _ = try engine.submit("vm.create", arguments: [], to: "host1")
    }

    @Test func aLiveIncarnationIsTakenOverOnlyFromItsAddress() {
        let engine = ManagerEngine(configuration: .init(admission: Admission(sharedToken: "t")), logger: Logger(label: "t"))
        let victim = Link("10.0.0.1")
        var victimPhase = LinkPhase.awaitingHello
        #expect(engine.handle(hello("vm1", role: .domU, incarnation: 7), phase: &victimPhase, link: victim) == .proceed)
        let thief = Link("10.0.0.2")
        var thiefPhase = LinkPhase.awaitingHello
        #expect(engine.handle(hello("vm1", role: .domU, incarnation: 7), phase: &thiefPhase, link: thief) != .proceed)
        #expect(thief.sent.withLock { $0.contains { if case .reject(let r) = $0 { r.reason == .duplicateName } else { false } } })
        #expect(victim.closed.withLock { $0 } == nil, "the victim keeps its session")
        // A reconnect from the same address (the Manager has not yet seen the old connection end) takes over.
        let again = Link("10.0.0.1")
        var againPhase = LinkPhase.awaitingHello
        #expect(engine.handle(hello("vm1", role: .domU, incarnation: 7), phase: &againPhase, link: again) == .proceed)
        #expect(victim.closed.withLock { $0 } != nil)
    }
}
