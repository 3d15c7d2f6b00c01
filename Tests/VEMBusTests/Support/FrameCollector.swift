import NIOCore
import NIOPosix
import Synchronization
import VEMProtocol

/// A raw test peer's inbound side: decodes whatever the Manager sends with the real ``FrameDecoder``.
final class FrameCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let decoder = Mutex(FrameDecoder())
    let messages: AsyncStream<Message>
    private let continuation: AsyncStream<Message>.Continuation

    init() { (messages, continuation) = AsyncStream.makeStream(of: Message.self) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        let decoded = decoder.withLock { decoder -> [Message] in
            buffer.withUnsafeReadableBytes { decoder.append($0) }
            var out: [Message] = []
            while let message = try? decoder.next() { out.append(message) }
            return out
        }
        for message in decoded { continuation.yield(message) }
    }

    func channelInactive(context: ChannelHandlerContext) { continuation.finish() }
}

extension HubHarness {
    /// A raw TCP peer whose inbound frames are decoded and recorded; with `reading: false` it never reads (a slow
    /// consumer).
    /// Opens a raw connection that collects what the hub sends. `hello`, when given, is written by the
    /// connection's event loop the moment it is connected, not later by the test's task: the hub closes a
    /// connection that stays silent before its hello, and a loaded machine may not run the test's task in time.
    func openCollectingRaw(reading: Bool = true, hello: [UInt8]? = nil) async throws -> (TCPRawPeer, EventRecorder<Message>) {
        let collector = FrameCollector()
        let channel = try await ClientBootstrap(group: clientGroup)
            .channelOption(ChannelOptions.autoRead, value: reading)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port)
            .flatMap { channel -> EventLoopFuture<any Channel> in
                guard let hello else { return channel.eventLoop.makeSucceededFuture(channel) }
                return channel.writeAndFlush(channel.allocator.buffer(bytes: hello)).map { channel }
            }.get()
        return (TCPRawPeer(channel: channel), EventRecorder(collector.messages))
    }
}

/// A `hello` frame.
func helloFrame(name: String, token: String, incarnation: UInt64, version: String = "1.0.0") throws -> [UInt8] {
    try Message.hello(Hello(name: name, role: .domU, host: "h", version: version, incarnation: incarnation, token: token))
        .encodedFrame()
}
