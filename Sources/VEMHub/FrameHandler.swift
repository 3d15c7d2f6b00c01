import NIOCore
import VEMProtocol

/// Decodes VEM frames on the event loop, straight from the `ByteBuffer`'s readable bytes (no copy), with the
/// primitives of ``VEMProtocol/WireFormat`` and ``VEMProtocol/Message/init(decodingBody:)-(UnsafeRawBufferPointer)``.
///
/// An oversized length prefix fails as soon as its 4 bytes are in (before the body is buffered); a stream that
/// ends inside a frame fails with `truncated_frame`. Errors reach the next handler's `errorCaught` as
/// ``VEMProtocol/ProtocolError``.
struct FrameDecoderHandler: ByteToMessageDecoder {
    typealias InboundOut = Message

    let maximumFrameSize: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let decoded: (message: Message, size: Int)? = try buffer.withUnsafeReadableBytes {
            bytes throws(ProtocolError) -> (Message, Int)? in
            guard let length = try WireFormat.peekBodyLength(bytes, maximumFrameSize: maximumFrameSize) else {
                return nil
            }
            let end = WireFormat.lengthPrefixSize + length
            guard bytes.count >= end else { return nil }
            let body = UnsafeRawBufferPointer(rebasing: bytes[WireFormat.lengthPrefixSize..<end])
            return (try Message(decodingBody: body), end)
        }
        guard let decoded else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: decoded.size)
        context.fireChannelRead(Self.wrapInboundOut(decoded.message))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            let left = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: left)
            throw ProtocolError(.truncatedFrame, "stream closed inside a frame (\(left) bytes left over)")
        }
        return .needMoreData
    }
}

/// Encodes messages into frames, reusing one scratch array per connection.
struct FrameEncoder {
    let maximumFrameSize: Int
    private var scratch: [UInt8] = []

    init(maximumFrameSize: Int) {
        self.maximumFrameSize = maximumFrameSize
    }

    /// The frames of `messages`, in one buffer. A message too large for the peer is skipped (and counted).
    mutating func encode(_ messages: [Message], allocator: ByteBufferAllocator) -> (ByteBuffer, skipped: Int) {
        scratch.removeAll(keepingCapacity: true)
        var skipped = 0
        for message in messages {
            do throws(ProtocolError) {
                try message.encodeFrame(into: &scratch, maximumFrameSize: maximumFrameSize)
            } catch {
                skipped += 1
            }
        }
        var buffer = allocator.buffer(capacity: scratch.count)
        buffer.writeBytes(scratch)
        if scratch.capacity > 64 * 1024 { scratch = [] }
        return (buffer, skipped)
    }

    /// One message as a shareable frame (for fan-out: encode once, write to many channels).
    static func frame(_ message: Message, maximumFrameSize: Int, allocator: ByteBufferAllocator) throws(ProtocolError)
        -> ByteBuffer
    {
        let bytes = try message.encodedFrame(maximumFrameSize: maximumFrameSize)
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return buffer
    }
}
