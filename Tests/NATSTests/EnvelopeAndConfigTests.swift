import Testing
import VEMNATS
import VEMBus
import VEMProtocol
import VEMTestKit

@Suite("NATS envelope, subjects and accounts (pure)")
struct EnvelopeAndConfigTests {
    @Test func envelopeRoundTripsSessionNoteAndMessages() throws {
        let messages: [Message] = [
            .heartbeat(Heartbeat(timestampMilliseconds: 7)), .event(Event(kind: "x")), .bye(Bye(reason: "r")),
        ]
        let note = NATSEnvelope.ConnectionNote(cid: 42, serverID: "NDKBKIITR72CP4PD")
        let envelope = NATSEnvelope(session: 0xDEAD_BEEF_0000_0001, note: note, messages: messages)
        let (bytes, dropped) = envelope.encoded()
        #expect(dropped == 0)
        let decoded = try bytes.withUnsafeBytes { try NATSEnvelope(decoding: $0) }
        #expect(decoded == envelope)
        let plain = NATSEnvelope(session: 3, messages: [.heartbeat(Heartbeat())])
        #expect(try plain.encoded().bytes.withUnsafeBytes { try NATSEnvelope(decoding: $0) } == plain)
    }

    @Test func envelopeKeepsTheGoodPrefixAndReportsTheBadFrame() throws {
        var bytes = NATSEnvelope(session: 9, messages: [.event(Event(kind: "ok"))]).encoded().bytes
        bytes += [0x00, 0x00, 0x00, 0x04, 0x02, 0xEE, 0xEE, 0xEE]  // unknown msg_type
        let (envelope, error) = try bytes.withUnsafeBytes { try NATSEnvelope.decodePrefix($0) }
        #expect(envelope.messages == [.event(Event(kind: "ok"))])
        #expect(error?.code == .unknownMessageType)
        #expect(throws: ProtocolError.self) { try bytes.withUnsafeBytes { try NATSEnvelope(decoding: $0) } }
    }

    @Test(arguments: [[UInt8](), [0, 1, 2], [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]])
    func truncatedHeadersAreErrors(_ bytes: [UInt8]) {
        #expect(throws: ProtocolError.self) { try bytes.withUnsafeBytes { try NATSEnvelope.decodePrefix($0) } }
    }

    @Test func oversizedMessagesAreLeftOutAndCounted() {
        let big = Message.event(Event(kind: String(repeating: "k", count: 300)))
        let (bytes, dropped) = NATSEnvelope(session: 1, messages: [big, .heartbeat(Heartbeat())])
            .encoded(maximumFrameSize: 100)
        #expect(dropped == 1)
        #expect((try? bytes.withUnsafeBytes { try NATSEnvelope(decoding: $0) })?.messages == [.heartbeat(Heartbeat())])
    }

    @Test func subjectsFollowTheScheme() throws {
        let subjects = try NATSSubjects(site: "perugia")
        #expect(subjects.manager("host07") == "vem.perugia.manager.host07")
        #expect(subjects.managerWildcard == "vem.perugia.manager.*")
        #expect(subjects.client("host07") == "vem.perugia.client.host07")
        #expect(subjects.group("atlas") == "vem.perugia.group.atlas")
        #expect(subjects.all == "vem.perugia.all")
        #expect(subjects.clientName(fromManagerSubject: "vem.perugia.manager.host07") == "host07")
        #expect(subjects.clientName(fromManagerSubject: "vem.other.manager.host07") == nil)
    }

    @Test(arguments: ["", "a.b", "a*", "a>", "a b", "tab\t"])
    func badTokensAreRefused(_ token: String) {
        #expect(throws: NATSError.self) { try NATSSubjects(site: token) }
        #expect(throws: NATSError.self) { try NATSAccountsConfig(site: "s", clients: [.init(name: token)]) }
    }

    @Test func accountsGiveEachClientOnlyItsSubjects() throws {
        let config = try NATSAccountsConfig(
            site: "s1", clients: [.init(name: "host01"), .init(name: "vm7", group: "atlas")],
            passwords: ["host01": "pw1"])
        let text = config.text
        #expect(text.contains(#"{ user: "host01", password: "pw1","#))
        #expect(
            text.contains(
                #"permissions: { publish: { allow: ["vem.s1.manager.host01"] }, subscribe: { allow: ["vem.s1.client.host01", "vem.s1.all"] } } }"#
            ))
        #expect(text.contains(#"subscribe: { allow: ["vem.s1.client.vm7", "vem.s1.all", "vem.s1.group.atlas"] }"#))
        #expect(text.contains(#"publish: { allow: ["vem.s1.>"] }"#))
        #expect(text.contains("system_account: SYS"))
        #expect(config.password("vm7").count == 24)
        #expect(config.password("manager") != config.password("sys"))
        #expect(config.credentialsText.split(separator: "\n").count == 4)
    }

    @Test func clientListsAreParsedWithClearErrors() throws {
        let clients = try NATSAccountsConfig.parseClientList("# hosts\nhost01\n\nvm7 atlas  # a VM\n")
        #expect(clients == [.init(name: "host01"), .init(name: "vm7", group: "atlas")])
        #expect(throws: NATSError(.invalidInput, "line 2: expected 'name [group]', got 3 fields")) {
            try NATSAccountsConfig.parseClientList("a\nb c d\n")
        }
        #expect(throws: NATSError(.invalidInput, "client 'a' is listed twice")) {
            try NATSAccountsConfig(site: "s", clients: [.init(name: "a"), .init(name: "a")])
        }
        #expect(throws: NATSError(.invalidInput, "client name 'manager' is reserved")) {
            try NATSAccountsConfig(site: "s", clients: [.init(name: "manager")])
        }
    }
}

@Suite("NATS bad input")
struct NATSBadInputTests {
    @Test func connectingWithoutServersOrToNothingIsAClearError() async throws {
        await #expect(throws: NATSError(.connect, "no NATS server URL given")) {
            _ = try await NATSConnection.connect(NATSConnectionOptions(servers: []))
        }
        // A port nothing listens on (the server picked it, then exited).
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let server = try await NATSServerProcess.start(name: "gone", body: "", directory: scratch.path)
        let url = server.url
        await server.stop()
        do {
            _ = try await NATSConnection.connect(
                NATSConnectionOptions(servers: [url], connectTimeout: .milliseconds(500), maximumReconnects: 0))
            Issue.record("connected to a stopped server")
        } catch {
            #expect(error.code == .connect)
            #expect(error.message.hasPrefix("cannot connect to \(url)"))
        }
    }

    @Test func clientNamesMustBeSubjectTokens() {
        let identity = ClientIdentity(name: "host.example.org", role: .dom0, host: "h", version: "1.0.0", incarnation: 1)
        #expect(throws: NATSError.self) {
            _ = try NATSClient(
                configuration: NATSClientConfiguration(connection: NATSConnectionOptions(servers: ["nats://127.0.0.1:1"]), site: "s"),
                identity: identity, token: "t", handlers: ClientHandlers(execute: { CommandResult(seq: $0.seq, status: .ok) }))
        }
    }
}
