import Testing
import VEMProtocol

@Suite struct FrameDecoderTests {
    /// Feeds `bytes` to a decoder in random chunks; returns the messages and the error, if any.
    func decode<R: RandomNumberGenerator>(
        _ bytes: [UInt8], splitting rng: inout R, configuration: FrameDecoder.Configuration = .init(),
        finish: Bool = true
    ) -> (messages: [Message], error: ProtocolError?) {
        var decoder = FrameDecoder(configuration: configuration)
        var messages: [Message] = []
        var index = 0
        do {
            while index < bytes.count {
                let size = Int.random(in: 1...max(1, min(64, bytes.count - index)), using: &rng)
                decoder.append(bytes[index..<index + size])
                index += size
                #expect(decoder.bufferedByteCount <= 4 + configuration.maximumFrameSize + 64)
                while let message = try decoder.next() { messages.append(message) }
            }
            if finish { try decoder.finish() }
            return (messages, nil)
        } catch {
            return (messages, error)
        }
    }

    func expectError(
        _ bytes: [UInt8], _ code: ProtocolError.Code, maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var rng = SplitMix64(seed: 1)
        for _ in 0..<8 {
            let result = decode(bytes, splitting: &rng, configuration: .init(maximumFrameSize: maximumFrameSize))
            #expect(result.error?.code == code, sourceLocation: sourceLocation)
        }
    }

    @Test func chunkingInvariance() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<500 {
            let messages = (0..<Int.random(in: 0...12, using: &rng)).map { _ in RandomMessages.message(&rng) }
            let stream = messages.flatMap(\.frameBytes)
            let result = decode(stream, splitting: &rng)
            #expect(result.error == nil)
            #expect(result.messages.map(\.frameBytes) == messages.map(\.frameBytes))
        }
    }

    @Test func byteAtATimeAndAllAtOnce() throws {
        var rng = SplitMix64(seed: 3)
        let messages = (0..<50).map { _ in RandomMessages.message(&rng) }
        let stream = messages.flatMap(\.frameBytes)
        var single = FrameDecoder()
        var out: [Message] = []
        for byte in stream {
            single.append([byte])
            while let m = try single.next() { out.append(m) }
        }
        try single.finish()
        #expect(out.map(\.frameBytes) == messages.map(\.frameBytes))
        var whole = FrameDecoder()
        whole.append(stream)
        out = []
        while let m = try whole.next() { out.append(m) }
        #expect(out.count == messages.count)
        #expect(whole.bufferedByteCount == 0)
    }

    @Test func oversizedPrefixFailsBeforeTheBody() {
        var decoder = FrameDecoder(configuration: .init(maximumFrameSize: 1000))
        decoder.append([0x00, 0x00])
        #expect(decoder.error == nil)
        decoder.append([0x03, 0xE9])  // 1001: no body byte has been sent
        #expect(decoder.error?.code == .oversizedFrame)
        #expect(decoder.bufferedByteCount == 0)
        #expect(throws: ProtocolError.self) { try decoder.next() }
        decoder.append([UInt8](repeating: 0, count: 100))  // discarded once failed
        #expect(decoder.bufferedByteCount == 0)
        expectError([0xFF, 0xFF, 0xFF, 0xFF], .oversizedFrame)
        expectError([0x00, 0x10, 0x00, 0x01], .oversizedFrame)  // 1 MiB + 1 with the default limit
    }

    @Test func truncatedAtClose() {
        let frame = Message.heartbeat(Heartbeat(timestampMilliseconds: 5)).frameBytes
        for cut in 1..<frame.count { expectError(Array(frame[..<cut]), .truncatedFrame) }
        var decoder = FrameDecoder()
        decoder.append(frame + frame.prefix(3))
        #expect(throws: Never.self) { _ = try decoder.next() }
        #expect(throws: ProtocolError.self) { try decoder.finish() }
        #expect(decoder.error?.code == .truncatedFrame)
    }

    @Test func typedErrors() {
        expectError([0, 0, 0, 2, 1, 4], .unsupportedVersion)  // protocol 1 (JSON-text values)
        expectError([0, 0, 0, 2, 3, 4], .unsupportedVersion)
        expectError([0, 0, 0, 2, 0, 4], .unsupportedVersion)
        expectError([0, 0, 0, 2, 2, 0], .unknownMessageType)
        expectError([0, 0, 0, 2, 2, 200], .unknownMessageType)
        expectError([0, 0, 0, 1, 1], .malformedField)  // shorter than version + msg_type
        expectError([0, 0, 0, 0], .malformedField)
        expectError([0, 0, 0, 3, 2, 4, 0x80], .truncatedFrame)  // varint runs past the body
        expectError([0, 0, 0, 4, 2, 4, 0x80, 0x00], .malformedField)  // overlong varint
        expectError([0, 0, 0, 13, 2, 4] + [UInt8](repeating: 0xFF, count: 10) + [0x01], .malformedField)  // > 64 bits
        expectError([0, 0, 0, 4, 2, 4, 1, 9], .malformedField)  // trailing byte
        expectError([0, 0, 0, 4, 2, 12, 2, 0xC3], .truncatedFrame)  // bye.reason says 2 bytes, has 1
        expectError([0, 0, 0, 4, 2, 12, 1, 0xC3], .invalidUTF8)  // lone lead byte
        expectError([0, 0, 0, 5, 2, 12, 2, 0xC0, 0x80], .invalidUTF8)  // overlong NUL
        expectError([0, 0, 0, 9, 2, 2, 0, 0, 2, 0, 0, 0, 0], .malformedField)  // welcome.resumed = 2
        expectError([0, 0, 0, 4, 2, 5, 0, 0x7F], .malformedField)  // 127 names in 0 bytes
        expectError([0, 0, 0, 6, 2, 11, 0, 0, 1, 0], .malformedField)  // 1 attribute cannot fit in 1 byte
        expectError([0, 0, 0, 7, 2, 11, 0, 0, 1, 0, 3], .truncatedFrame)  // float attribute without its 8 bytes
        expectError([0, 0, 0, 5, 2, 6, 0, 1, 0], .malformedField)  // 1 reading cannot fit in 1 byte
        expectError([0, 0, 0, 7, 2, 11, 0, 0, 1, 0, 9], .malformedField)  // unknown value tag
        expectError([0, 0, 0, 4, 2, 3, 77, 0], .malformedField)  // unknown reject reason
        expectError([0, 0, 0, 7, 2, 11, 0, 0, 1, 0, 5], .malformedField)  // tag 5 (protocol 1's JSON text) is gone
        // A dict's keys must be strictly ascending (canonical): {"b": null, "a": null} is refused.
        expectError([0, 0, 0, 14, 2, 11, 0, 0, 1, 0, 7, 2, 1, 0x62, 0, 1, 0x61, 0], .malformedField)
        expectError([0, 0, 0, 14, 2, 11, 0, 0, 1, 0, 7, 2, 1, 0x61, 0, 1, 0x61, 0], .malformedField)  // twice
        // Lists nest at most 32 deep.
        let deep: [UInt8] = Array(repeating: [UInt8]([6, 1]), count: 40).flatMap { $0 } + [0]
        let header: [UInt8] = [0, 0, 0, UInt8(6 + deep.count), 2, 11, 0, 0, 1, 0]
        expectError(header + deep, .malformedField)
    }

    @Test func peekBodyLengthForATransportAdapter() throws {
        let frame = Message.bye(Bye(reason: "bye")).frameBytes
        try frame.withUnsafeBytes { (raw) throws -> Void in
            #expect(try WireFormat.peekBodyLength(UnsafeRawBufferPointer(rebasing: raw[..<3])) == nil)
            #expect(try WireFormat.peekBodyLength(raw) == frame.count - 4)
            #expect(throws: ProtocolError.self) { try WireFormat.peekBodyLength(raw, maximumFrameSize: 3) }
        }
        #expect(throws: ProtocolError.self) { try Message(decodingFrame: frame + [0]) }  // bytes after the frame
        #expect(throws: ProtocolError.self) { try Message(decodingFrame: Array(frame.dropLast())) }
        #expect(try Message(decodingFrame: frame) == .bye(Bye(reason: "bye")))
    }

    @Test func errorsCarryCodeMessageAndOffset() {
        do {
            _ = try Message(decodingBody: [2, 12, 1, 0xFF])
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.offset == 2)
            #expect(error.description.hasPrefix("invalid_utf8: bye.reason"))
        }
    }

    /// ≥ 10,000 random and mutated inputs: never a crash, only messages or a typed error; whatever is accepted
    /// re-encodes to exactly the bytes it came from (the encoding is canonical).
    @Test func fuzzNeverCrashes() {
        var rng = SplitMix64(seed: 0xF022)
        var accepted = 0
        var rejected: [ProtocolError.Code: Int] = [:]
        for round in 0..<12_000 {
            var bytes: [UInt8]
            switch round % 4 {
            case 0:  // pure garbage, sometimes with a plausible header
                bytes = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if Bool.random(using: &rng), bytes.count >= 6 {
                    let n = bytes.count - 4
                    bytes[0] = 0
                    bytes[1] = 0
                    bytes[2] = UInt8(n >> 8)
                    bytes[3] = UInt8(n & 0xFF)
                    bytes[4] = 1
                    bytes[5] = UInt8.random(in: 1...12, using: &rng)
                }
            default:  // valid frames, mutated
                bytes = (0..<Int.random(in: 1...3, using: &rng)).flatMap { _ in RandomMessages.message(&rng).frameBytes }
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    guard !bytes.isEmpty else { break }
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                    case 1: bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    case 2: bytes.removeSubrange(i...)
                    case 3: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                    default: bytes.remove(at: i)
                    }
                }
            }
            let result = decode(bytes, splitting: &rng, configuration: .init(maximumFrameSize: 4096))
            if let error = result.error {
                rejected[error.code, default: 0] += 1
            } else {
                accepted += 1
                #expect(result.messages.flatMap(\.frameBytes) == bytes)
            }
            // The body decoder alone must not crash either.
            if bytes.count > 4 { _ = try? Message(decodingBody: Array(bytes[4...])) }
        }
        #expect(accepted > 100)
        for code in [ProtocolError.Code.truncatedFrame, .malformedField, .unknownMessageType, .invalidUTF8] {
            #expect(rejected[code, default: 0] > 0, "no fuzz input produced \(code)")
        }
    }
}
