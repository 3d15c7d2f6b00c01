import NIOCore
import VEMProtocol

/// Splits a connection's inbound bytes into messages, decoding in place from each `ByteBuffer`'s readable bytes
/// (no copy unless a frame straddles two reads) with the primitives of ``VEMProtocol/WireFormat`` and
/// ``VEMProtocol/Message/init(decodingBody:)-(UnsafeRawBufferPointer)``.
///
/// Used directly by the connection handlers instead of a `ByteToMessageHandler`, which saves boxing every
/// message into `NIOAny` and a pipeline hop per message. Only the bytes of one incomplete frame are kept between
/// reads; an oversized length prefix fails as soon as its 4 bytes are in.
public struct InboundFrames {
    /// The largest frame body accepted (raised once a connection is admitted).
    public var maximumFrameSize: Int
    private var partial: ByteBuffer?

    /// A splitter that refuses frames larger than `maximumFrameSize`.
    public init(maximumFrameSize: Int) {
        self.maximumFrameSize = maximumFrameSize
    }

    /// Bytes of an incomplete frame held for the next read.
    public var leftoverBytes: Int { partial?.readableBytes ?? 0 }

    /// Decodes every complete frame of what has arrived, appending the messages to `messages`.
    /// - Throws: The first ``VEMProtocol/ProtocolError``; the connection must then be closed.
    public mutating func feed(_ buffer: ByteBuffer, into messages: inout [Message]) throws(ProtocolError) {
        var bytes: ByteBuffer
        if var pending = partial {
            partial = nil
            var incoming = buffer
            pending.writeBuffer(&incoming)
            bytes = pending
        } else {
            bytes = buffer
        }
        let consumed = try Self.decode(bytes, maximumFrameSize: maximumFrameSize, into: &messages)
        bytes.moveReaderIndex(forwardBy: consumed)
        if bytes.readableBytes > 0 { partial = bytes }
    }

    /// The stream ended.
    /// - Throws: ``VEMProtocol/ProtocolError/Code/truncatedFrame`` if an incomplete frame is left over.
    public func finish() throws(ProtocolError) {
        let left = leftoverBytes
        if left > 0 { throw ProtocolError(.truncatedFrame, "stream closed inside a frame (\(left) bytes left over)") }
    }

    private static func decode(
        _ buffer: ByteBuffer, maximumFrameSize: Int, into messages: inout [Message]
    ) throws(ProtocolError) -> Int {
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(ProtocolError) -> Int in
                var offset = 0
                while true {
                    let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                    guard let length = try WireFormat.peekBodyLength(rest, maximumFrameSize: maximumFrameSize) else {
                        return offset
                    }
                    let end = WireFormat.lengthPrefixSize + length
                    guard rest.count >= end else { return offset }
                    messages.append(
                        try Message(decodingBody: UnsafeRawBufferPointer(rebasing: rest[WireFormat.lengthPrefixSize..<end])))
                    offset += end
                }
            }
        }
        return try result.get()
    }
}
