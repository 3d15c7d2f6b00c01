import PropertyBased
import Testing
import VEMProtocol

@Suite struct CodecTests {
    /// Round-trips `message` through a frame and checks the decoded message and its re-encoding.
    func expectRoundTrip(_ message: Message, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let frame = try message.encodedFrame()
            let decoded = try Message(decodingFrame: frame)
            #expect(decoded.type == message.type, sourceLocation: sourceLocation)
            #expect(decoded.frameBytes == frame, sourceLocation: sourceLocation)
            if !message.containsNaN {  // NaN != NaN: then the byte comparison above decides
                #expect(decoded == message, sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("round trip of \(message.type) threw \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: MessageType.allCases)
    func everyMessageTypeRoundTrips(type: MessageType) {
        var rng = SplitMix64(seed: UInt64(type.rawValue))
        for _ in 0..<200 { expectRoundTrip(RandomMessages.message(of: type, &rng)) }
    }

    @Test func randomMessagesRoundTrip() async {
        let messages = Generator<Message, Shrink.None<Message>>(run: { rng in RandomMessages.message(&rng) })
        await propertyCheck(count: 2_000, input: messages) { message in
            expectRoundTrip(message)
        }
    }

    @Test func everyWireValueRoundTrips() {
        let values: [WireValue] = [
            .null, .bool(false), .bool(true), .int(0), .int(-1), .int(.min), .int(.max), .float(0), .float(-0.0),
            .float(.infinity), .float(1.5), .string(""), .string("MemFree"), .string("漢字🙂"), .array([]), .object([:]),
            .object(["a": .array([.int(1), .int(2)]), "b": .object(["c": .null, "d": .float(0.5)])]),
            .array([.array([.string("x")]), .object(["": .bool(true)])]),
        ]
        for value in values {
            expectRoundTrip(.event(Event(kind: "k", attributes: [NamedValue("v", value)])))
            expectRoundTrip(
                .property(PropertyReport(readings: [PropertyReading(name: "p", timestampMilliseconds: 1, value: value)])))
        }
        let nan = Message.command(Command(seq: 1, name: "n", arguments: [NamedValue("", .float(.nan))]))
        let decoded = try? Message(decodingFrame: nan.frameBytes)
        if case .command(let c)? = decoded, case .float(let d) = c.arguments[0].value {
            #expect(d.isNaN)
            #expect(c.arguments[0].value.isIdentical(to: .float(.nan)))
        } else {
            Issue.record("NaN did not round-trip")
        }
    }

    @Test func goldenHeartbeat() throws {
        let frame = try Message.heartbeat(Heartbeat(timestampMilliseconds: 300)).encodedFrame()
        #expect(frame == [0x00, 0x00, 0x00, 0x04, 0x02, 0x04, 0xAC, 0x02])
    }

    @Test func goldenProperty() throws {
        let message = Message.property(
            PropertyReport(readings: [PropertyReading(name: "ram_free", timestampMilliseconds: 1, value: .int(42))]))
        let frame = try message.encodedFrame()
        let expected: [UInt8] =
            [0x00, 0x00, 0x00, 0x10, 0x02, 0x06, 0x00, 0x01, 0x08] + Array("ram_free".utf8) + [0x01, 0x02, 0x54]
        #expect(frame == expected)
        #expect(try Message(decodingFrame: expected) == message)
    }

    @Test func goldenDict() throws {
        // A reading whose value is {"a": [1]}: tag 7, one key "a", tag 6, one item, int 1.
        let message = Message.property(
            PropertyReport(
                readings: [PropertyReading(name: "p", timestampMilliseconds: 1, value: .object(["a": .array([.int(1)])]))]))
        let expected: [UInt8] = [0x00, 0x00, 0x00, 0x0F, 0x02, 0x06, 0x00, 0x01, 0x01, 0x70, 0x01, 0x07, 0x01, 0x01, 0x61, 0x06, 0x01, 0x02, 0x02]
        #expect(try message.encodedFrame() == expected)
        #expect(try Message(decodingFrame: expected) == message)
    }

    @Test func goldenCommand() throws {
        let message = Message.command(Command(seq: 1, name: "ls", arguments: [NamedValue("", .bool(true))]))
        let frame = try message.encodedFrame()
        #expect(frame == [0x00, 0x00, 0x00, 0x0A, 0x02, 0x07, 0x01, 0x02, 0x6C, 0x73, 0x01, 0x00, 0x01, 0x01])
    }

    @Test func encodingRefusesOversizedFrames() {
        let big = Message.bye(Bye(reason: String(repeating: "x", count: 100)))
        var buffer: [UInt8] = [9, 9]
        #expect(throws: ProtocolError.self) { try big.encodeFrame(into: &buffer, maximumFrameSize: 50) }
        #expect(buffer == [9, 9])
        do {
            try big.encodeFrame(into: &buffer, maximumFrameSize: 50)
        } catch {
            #expect(error.code == .oversizedFrame)
        }
    }

    @Test func bodyEncodingMatchesTheFrame() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<100 {
            let message = RandomMessages.message(&rng)
            var body: [UInt8] = []
            message.encodeBody(into: &body)
            #expect(Array(message.frameBytes.dropFirst(4)) == body)
            #expect(try Message(decodingBody: body).frameBytes == message.frameBytes)
            #expect(try Message(decodingBody: body[...]).frameBytes == message.frameBytes)
        }
    }

    @Test func outputCapCutsOnCharacterBoundaries() {
        let result = CommandResult(seq: 1, status: .ok, output: "aé🙂b")
        #expect(result.cappingOutput(toBytes: 100) == result)
        let capped = result.cappingOutput(toBytes: 5)  // a(1) é(2) 🙂(4) — the emoji does not fit
        #expect(capped.output == "aé")
        #expect(capped.outputTruncated)
    }
}
