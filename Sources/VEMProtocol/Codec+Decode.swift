import VEMCore

// The decoding half of the codec (see the wire format in WireFormat.swift). Every read is bounds-checked and
// throws a typed `ProtocolError`; no input can trap, and no count read from the wire is trusted for an
// allocation before it has been checked against the bytes actually present.

/// Reads wire primitives from a body. Internal: the public surface is ``Message/init(decodingBody:)``.
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    func truncated(_ what: StaticString) -> ProtocolError {
        ProtocolError(.truncatedFrame, "body ends inside \(what)", offset: position)
    }

    func malformed(_ what: String) -> ProtocolError {
        ProtocolError(.malformedField, what, offset: position)
    }

    @inline(__always)
    mutating func byte(_ what: StaticString) throws(ProtocolError) -> UInt8 {
        guard position < bytes.count else { throw truncated(what) }
        defer { position += 1 }
        return bytes[position]
    }

    @inline(__always)
    mutating func varint(_ what: StaticString) throws(ProtocolError) -> UInt64 {
        // Fast path: one byte.
        if position < bytes.count, bytes[position] < 0x80 {
            defer { position += 1 }
            return UInt64(bytes[position])
        }
        return try varintSlow(what)
    }

    mutating func varintSlow(_ what: StaticString) throws(ProtocolError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw truncated(what) }
            let b = bytes[position]
            position += 1
            if shift == 63 && b > 1 {
                throw ProtocolError(.malformedField, "varint \(what) overflows 64 bits", offset: start)
            }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 {
                if b == 0 && shift > 0 {
                    throw ProtocolError(.malformedField, "varint \(what) is not minimal", offset: start)
                }
                return result
            }
            shift += 7
        }
    }

    @inline(__always)
    mutating func zigzag(_ what: StaticString) throws(ProtocolError) -> Int64 {
        let raw = try varint(what)
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    mutating func bool(_ what: StaticString) throws(ProtocolError) -> Bool {
        switch try byte(what) {
        case 0: return false
        case 1: return true
        default:
            position -= 1
            throw malformed("\(what) is not a bool (0 or 1)")
        }
    }

    mutating func double(_ what: StaticString) throws(ProtocolError) -> Double {
        guard remaining >= 8 else { throw truncated(what) }
        var bits: UInt64 = 0
        for i in 0..<8 { bits = bits << 8 | UInt64(bytes[position + i]) }
        position += 8
        return Double(bitPattern: bits)
    }

    /// A count of list elements, checked against the bytes left (every element takes at least
    /// `minimumElementSize` bytes).
    mutating func count(_ what: StaticString, minimumElementSize: Int = 1) throws(ProtocolError) -> Int {
        let start = position
        let raw = try varint(what)
        guard raw <= UInt64(remaining / minimumElementSize) else {
            throw ProtocolError(.malformedField, "\(what) count \(raw) exceeds the bytes left", offset: start)
        }
        return Int(raw)
    }

    /// How much to reserve for `count` elements: never more than a small bound, so a frame cannot make the
    /// decoder reserve memory out of proportion to the elements it really contains.
    @inline(__always)
    static func reservation(_ count: Int) -> Int { min(count, 64) }

    mutating func string(_ what: StaticString) throws(ProtocolError) -> String {
        let start = position
        let raw = try varint(what)
        guard raw <= UInt64(remaining) else { throw truncated(what) }
        let length = Int(raw)
        if length == 0 { return "" }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<position + length])
        guard let string = String(validating: slice.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw ProtocolError(.invalidUTF8, "\(what) is not valid UTF-8", offset: start)
        }
        position += length
        return string
    }

    mutating func optionalString(_ what: StaticString) throws(ProtocolError) -> String? {
        switch try byte(what) {
        case 0: return nil
        case 1: return try string(what)
        default:
            position -= 1
            throw malformed("\(what) has an invalid presence byte")
        }
    }

    mutating func varints(_ what: StaticString) throws(ProtocolError) -> [UInt64] {
        let n = try count(what)
        var values: [UInt64] = []
        values.reserveCapacity(WireReader.reservation(n))
        for _ in 0..<n { values.append(try varint(what)) }
        return values
    }

    mutating func value(_ what: StaticString, depth: Int = 0) throws(ProtocolError) -> WireValue {
        let tag = try byte(what)
        return try value(tag: tag, what, depth: depth)
    }

    mutating func value(tag: UInt8, _ what: StaticString, depth: Int = 0) throws(ProtocolError) -> WireValue {
        switch WireValue.Tag(rawValue: tag) {
        case .null: return .null
        case .bool: return .bool(try bool(what))
        case .int: return .int(try zigzag(what))
        case .float: return .float(try double(what))
        case .string: return .string(try string(what))
        case .list:
            guard depth < WireValue.maximumWireDepth else {
                throw malformed("\(what) nests deeper than \(WireValue.maximumWireDepth)")
            }
            let n = try count(what)
            var items: [WireValue] = []
            items.reserveCapacity(WireReader.reservation(n))
            for _ in 0..<n { items.append(try value(what, depth: depth + 1)) }
            return .array(items)
        case .map:
            guard depth < WireValue.maximumWireDepth else {
                throw malformed("\(what) nests deeper than \(WireValue.maximumWireDepth)")
            }
            let n = try count(what, minimumElementSize: 2)
            var map: [String: WireValue] = [:]
            map.reserveCapacity(WireReader.reservation(n))
            var previous: String?
            for _ in 0..<n {
                let key = try string(what)
                // Canonical: keys strictly ascending (so no duplicates, and re-encoding gives the same bytes).
                if let previous, !(previous < key) { throw malformed("\(what) has map keys out of order") }
                previous = key
                map[key] = try value(what, depth: depth + 1)
            }
            return .object(map)
        case nil:
            position -= 1
            throw malformed("\(what) has unknown value tag \(tag)")
        }
    }

    mutating func namedValues(_ what: StaticString) throws(ProtocolError) -> [NamedValue] {
        let n = try count(what, minimumElementSize: 2)
        var values: [NamedValue] = []
        values.reserveCapacity(WireReader.reservation(n))
        for _ in 0..<n {
            let name = try string(what)
            values.append(NamedValue(name, try value(what)))
        }
        return values
    }

    mutating func enumeration<E: RawRepresentable>(_: E.Type, _ what: StaticString) throws(ProtocolError) -> E
    where E.RawValue == UInt8 {
        let raw = try byte(what)
        guard let value = E(rawValue: raw) else {
            position -= 1
            throw malformed("\(what) has unknown value \(raw)")
        }
        return value
    }
}

extension Message {
    /// Decodes one frame body (version byte, `msg_type` byte, fields — no length prefix).
    ///
    /// - Parameter body: Exactly one body. Works on any contiguous bytes (a NIO `ByteBuffer`'s readable view,
    ///   an array, a slice).
    /// - Throws: ``ProtocolError`` with code `unsupported_version`, `unknown_message_type`, `malformed_field`,
    ///   `truncated_frame` (a field runs past the end) or `invalid_utf8`.
    public init(decodingBody body: UnsafeRawBufferPointer) throws(ProtocolError) {
        var r = WireReader(body)
        let version = try r.byte("version")
        guard version == WireFormat.version else {
            throw ProtocolError(
                .unsupportedVersion,
                "protocol version \(version) is not supported: this build speaks version \(WireFormat.version) "
                    + "(run the same VEM release on the Manager and its Clients)", offset: 0)
        }
        let rawType = try r.byte("msg_type")
        guard let type = MessageType(rawValue: rawType) else {
            throw ProtocolError(.unknownMessageType, "unknown msg_type \(rawType)", offset: 1)
        }
        self = try Message.readFields(of: type, from: &r)
        guard r.remaining == 0 else {
            throw r.malformed("\(r.remaining) trailing bytes after a \(type) message")
        }
    }

    /// Decodes one frame body held in an array.
    /// - Parameter body: Exactly one body (no length prefix).
    /// - Throws: See ``init(decodingBody:)-(UnsafeRawBufferPointer)``.
    public init(decodingBody body: [UInt8]) throws(ProtocolError) {
        self = try body.withUnsafeBytes { raw in
            Result { () throws(ProtocolError) -> Message in try Message(decodingBody: raw) }
        }.get()
    }

    /// Decodes one frame body held in an array slice.
    /// - Parameter body: Exactly one body (no length prefix).
    /// - Throws: See ``init(decodingBody:)-(UnsafeRawBufferPointer)``.
    public init(decodingBody body: ArraySlice<UInt8>) throws(ProtocolError) {
        self = try body.withUnsafeBytes { raw in
            Result { () throws(ProtocolError) -> Message in try Message(decodingBody: raw) }
        }.get()
    }

    /// Decodes exactly one complete frame (length prefix and body).
    /// - Parameters:
    ///   - frame: The frame's bytes; nothing may follow it.
    ///   - maximumFrameSize: The largest acceptable body.
    /// - Throws: ``ProtocolError``; `truncated_frame` if the bytes end early, `malformed_field` if bytes follow.
    public init(
        decodingFrame frame: UnsafeRawBufferPointer, maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize
    ) throws(ProtocolError) {
        guard let length = try WireFormat.peekBodyLength(frame, maximumFrameSize: maximumFrameSize) else {
            throw ProtocolError(.truncatedFrame, "frame ends inside the length prefix", offset: 0)
        }
        let end = WireFormat.lengthPrefixSize + length
        guard frame.count >= end else {
            throw ProtocolError(.truncatedFrame, "frame ends after \(frame.count) of \(end) bytes")
        }
        guard frame.count == end else {
            throw ProtocolError(.malformedField, "\(frame.count - end) bytes after the frame")
        }
        try self.init(decodingBody: UnsafeRawBufferPointer(rebasing: frame[WireFormat.lengthPrefixSize..<end]))
    }

    /// Decodes exactly one complete frame held in an array.
    /// - Parameters:
    ///   - frame: The frame's bytes; nothing may follow it.
    ///   - maximumFrameSize: The largest acceptable body.
    /// - Throws: See ``init(decodingFrame:maximumFrameSize:)-(UnsafeRawBufferPointer,_)``.
    public init(decodingFrame frame: [UInt8], maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize)
        throws(ProtocolError)
    {
        self = try frame.withUnsafeBytes { raw in
            Result { () throws(ProtocolError) -> Message in
                try Message(decodingFrame: raw, maximumFrameSize: maximumFrameSize)
            }
        }.get()
    }

    static func readFields(of type: MessageType, from r: inout WireReader) throws(ProtocolError) -> Message {
        switch type {
        case .hello:
            let name = try r.string("hello.name")
            let role = try r.enumeration(ClientRole.self, "hello.role")
            let host = try r.string("hello.host")
            let group = try r.optionalString("hello.group")
            let vmID = try r.optionalString("hello.vm_id")
            let version = try r.string("hello.version")
            let incarnation = try r.varint("hello.incarnation")
            let token = try r.string("hello.token")
            let last = try r.varint("hello.last_executed_seq")
            let held = try r.varints("hello.held_results")
            return .hello(
                Hello(
                    name: name, role: role, host: host, group: group, vmID: vmID, version: version,
                    incarnation: incarnation, token: token, lastExecutedSeq: last, heldResults: held))
        case .welcome:
            let incarnation = try r.varint("welcome.manager_incarnation")
            let heartbeat = try r.varint("welcome.heartbeat_ms")
            let resumed = try r.bool("welcome.resumed")
            let base = try r.varint("welcome.command_base")
            let through = try r.varint("welcome.results_received_through")
            let above = try r.varints("welcome.results_received_above")
            return .welcome(
                Welcome(
                    managerIncarnation: incarnation, heartbeatIntervalMilliseconds: heartbeat, resumed: resumed,
                    commandBase: base, resultsReceivedThrough: through, resultsReceivedAbove: above))
        case .reject:
            let reason = try r.enumeration(Reject.Reason.self, "reject.reason")
            return .reject(Reject(reason, detail: try r.string("reject.detail")))
        case .heartbeat:
            return .heartbeat(Heartbeat(timestampMilliseconds: try r.varint("heartbeat.timestamp_ms")))
        case .getProperty:
            let requestID = try r.varint("get_property.request_id")
            let n = try r.count("get_property.names")
            var names: [String] = []
            names.reserveCapacity(WireReader.reservation(n))
            for _ in 0..<n { names.append(try r.string("get_property.names")) }
            return .getProperty(GetProperty(requestID: requestID, names: names))
        case .property:
            let requestID = try r.varint("property.request_id")
            let n = try r.count("property.readings", minimumElementSize: 3)
            var readings: [PropertyReading] = []
            readings.reserveCapacity(WireReader.reservation(n))
            for _ in 0..<n {
                let name = try r.string("property.name")
                let timestamp = try r.varint("property.timestamp_ms")
                let tag = try r.byte("property.value")
                let outcome: PropertyReading.Outcome
                if tag == WireFormat.readingErrorTag {
                    outcome = .error(try r.string("property.error"))
                } else {
                    outcome = .value(try r.value(tag: tag, "property.value"))
                }
                readings.append(PropertyReading(name: name, timestampMilliseconds: timestamp, outcome: outcome))
            }
            return .property(PropertyReport(requestID: requestID, readings: readings))
        case .command:
            let seq = try r.varint("command.seq")
            let name = try r.string("command.name")
            let arguments = try r.namedValues("command.arguments")
            return .command(Command(seq: seq, name: name, arguments: arguments))
        case .commandAck:
            return .commandAck(CommandAck(through: try r.varint("command_ack.through")))
        case .commandResult:
            let seq = try r.varint("command_result.seq")
            let status = try r.enumeration(CommandResult.Status.self, "command_result.status")
            var exitCode: Int32?
            switch try r.byte("command_result.exit_code") {
            case 0: exitCode = nil
            case 1:
                let start = r.position
                let raw = try r.zigzag("command_result.exit_code")
                guard let code = Int32(exactly: raw) else {
                    throw ProtocolError(.malformedField, "command_result.exit_code out of range", offset: start)
                }
                exitCode = code
            default:
                r.position -= 1
                throw r.malformed("command_result.exit_code has an invalid presence byte")
            }
            let output = try r.string("command_result.output")
            let truncated = try r.bool("command_result.output_truncated")
            let error = try r.optionalString("command_result.error")
            let duration = try r.varint("command_result.duration_us")
            return .commandResult(
                CommandResult(
                    seq: seq, status: status, exitCode: exitCode, output: output, outputTruncated: truncated,
                    error: error, durationMicroseconds: duration))
        case .resultAck:
            let through = try r.varint("result_ack.through")
            return .resultAck(ResultAck(through: through, above: try r.varints("result_ack.above")))
        case .event:
            let kind = try r.string("event.kind")
            let timestamp = try r.varint("event.timestamp_ms")
            let attributes = try r.namedValues("event.attributes")
            return .event(Event(kind: kind, timestampMilliseconds: timestamp, attributes: attributes))
        case .bye:
            return .bye(Bye(reason: try r.string("bye.reason")))
        }
    }
}
