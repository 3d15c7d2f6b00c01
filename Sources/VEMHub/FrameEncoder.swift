import NIOCore
import VEMProtocol

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
