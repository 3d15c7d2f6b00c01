// The encoding half of the codec. The wire format is specified in the doc comment of `WireFormat`
// (WireFormat.swift); this file and Codec+Decode.swift implement it field for field.

/// Appends wire primitives to a byte array. Internal: the public surface is ``Message/encodeFrame(into:maximumFrameSize:)``.
struct WireWriter {
    var bytes: [UInt8]

    @inline(__always)
    mutating func byte(_ value: UInt8) { bytes.append(value) }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always)
    mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always)
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    @inline(__always)
    mutating func double(_ value: Double) {
        let bits = value.bitPattern
        var shift: UInt64 = 56
        while true {
            bytes.append(UInt8(truncatingIfNeeded: bits >> shift))
            if shift == 0 { break }
            shift -= 8
        }
    }

    @inline(__always)
    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func optionalString(_ value: String?) {
        if let value {
            byte(1)
            string(value)
        } else {
            byte(0)
        }
    }

    mutating func varints(_ values: [UInt64]) {
        varint(UInt64(values.count))
        for value in values { varint(value) }
    }

    mutating func value(_ value: WireValue) {
        switch value {
        case .null:
            byte(WireValue.Tag.null.rawValue)
        case .bool(let b):
            byte(WireValue.Tag.bool.rawValue)
            bool(b)
        case .int(let i):
            byte(WireValue.Tag.int.rawValue)
            zigzag(i)
        case .float(let d):
            byte(WireValue.Tag.float.rawValue)
            double(d)
        case .string(let s):
            byte(WireValue.Tag.string.rawValue)
            string(s)
        case .array(let items):
            byte(WireValue.Tag.list.rawValue)
            varint(UInt64(items.count))
            for item in items { self.value(item) }
        case .object(let map):
            byte(WireValue.Tag.map.rawValue)
            varint(UInt64(map.count))
            for key in map.keys.sorted() {
                string(key)
                self.value(map[key] ?? .null)
            }
        }
    }

    mutating func namedValues(_ values: [NamedValue]) {
        varint(UInt64(values.count))
        for item in values {
            string(item.name)
            value(item.value)
        }
    }
}

extension Message {
    /// Appends this message as one complete frame (length prefix and body) to `buffer`.
    ///
    /// Costs no allocation beyond growing `buffer` (reuse one buffer across calls to avoid even that).
    /// - Parameters:
    ///   - buffer: Where to append. On error, `buffer` is left as it was.
    ///   - maximumFrameSize: The largest body the receiver accepts (default 1 MiB).
    /// - Throws: ``ProtocolError/Code/oversizedFrame`` when the body would exceed `maximumFrameSize`.
    public func encodeFrame(
        into buffer: inout [UInt8], maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize
    ) throws(ProtocolError) {
        let start = buffer.count
        var writer = WireWriter(bytes: [])
        swap(&writer.bytes, &buffer)
        for _ in 0..<WireFormat.lengthPrefixSize { writer.bytes.append(0) }  // patched below
        writeBody(into: &writer)
        swap(&writer.bytes, &buffer)
        let length = buffer.count - start - WireFormat.lengthPrefixSize
        guard length <= maximumFrameSize, length <= Int(UInt32.max) else {
            buffer.removeSubrange(start...)
            throw ProtocolError(
                .oversizedFrame, "\(type) frame of \(length) bytes exceeds the maximum of \(maximumFrameSize)")
        }
        buffer[start] = UInt8(truncatingIfNeeded: length >> 24)
        buffer[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        buffer[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        buffer[start + 3] = UInt8(truncatingIfNeeded: length)
    }

    /// This message as one complete frame (length prefix and body).
    /// - Parameter maximumFrameSize: The largest body the receiver accepts (default 1 MiB).
    /// - Throws: ``ProtocolError/Code/oversizedFrame`` when the body would exceed `maximumFrameSize`.
    public func encodedFrame(maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize) throws(ProtocolError) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        try encodeFrame(into: &buffer, maximumFrameSize: maximumFrameSize)
        return buffer
    }

    /// Appends this message's body (version byte, `msg_type` byte, fields — no length prefix) to `buffer`.
    /// For transports with their own framing (a NATS message payload).
    /// - Parameter buffer: Where to append.
    public func encodeBody(into buffer: inout [UInt8]) {
        var writer = WireWriter(bytes: [])
        swap(&writer.bytes, &buffer)
        writeBody(into: &writer)
        swap(&writer.bytes, &buffer)
    }

    func writeBody(into w: inout WireWriter) {
        w.byte(WireFormat.version)
        w.byte(type.rawValue)
        switch self {
        case .hello(let m):
            w.string(m.name)
            w.byte(m.role.rawValue)
            w.string(m.host)
            w.optionalString(m.group)
            w.optionalString(m.vmID)
            w.string(m.version)
            w.varint(m.incarnation)
            w.string(m.token)
            w.varint(m.lastExecutedSeq)
            w.varints(m.heldResults)
        case .welcome(let m):
            w.varint(m.managerIncarnation)
            w.varint(m.heartbeatIntervalMilliseconds)
            w.bool(m.resumed)
            w.varint(m.commandBase)
            w.varint(m.resultsReceivedThrough)
            w.varints(m.resultsReceivedAbove)
        case .reject(let m):
            w.byte(m.reason.rawValue)
            w.string(m.detail)
        case .heartbeat(let m):
            w.varint(m.timestampMilliseconds)
        case .getProperty(let m):
            w.varint(m.requestID)
            w.varint(UInt64(m.names.count))
            for name in m.names { w.string(name) }
        case .property(let m):
            w.varint(m.requestID)
            w.varint(UInt64(m.readings.count))
            for reading in m.readings {
                w.string(reading.name)
                w.varint(reading.timestampMilliseconds)
                switch reading.outcome {
                case .value(let value):
                    w.value(value)
                case .error(let text):
                    w.byte(WireFormat.readingErrorTag)
                    w.string(text)
                }
            }
        case .command(let m):
            w.varint(m.seq)
            w.string(m.name)
            w.namedValues(m.arguments)
        case .commandAck(let m):
            w.varint(m.through)
        case .commandResult(let m):
            w.varint(m.seq)
            w.byte(m.status.rawValue)
            if let code = m.exitCode {
                w.byte(1)
                w.zigzag(Int64(code))
            } else {
                w.byte(0)
            }
            w.string(m.output)
            w.bool(m.outputTruncated)
            w.optionalString(m.error)
            w.varint(m.durationMicroseconds)
        case .resultAck(let m):
            w.varint(m.through)
            w.varints(m.above)
        case .event(let m):
            w.string(m.kind)
            w.varint(m.timestampMilliseconds)
            w.namedValues(m.attributes)
        case .bye(let m):
            w.string(m.reason)
        }
    }
}
