import NIOCore
import NIOPosix
import Synchronization

/// The physical limit for `vem bench bus`: the simplest NIO server that does a round over N sockets — write one
/// request frame to every connection, count reply bytes until every reply is in. No decoding, no protocol.
public final class EchoBaseline: Sendable {
    final class Round: Sendable {
        struct State {
            var expected = 0
            var received = 0
            var continuation: CheckedContinuation<Void, Never>?
        }
        let state = Mutex(State())

        func add(_ bytes: Int) {
            let done = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.received += bytes
                guard state.received >= state.expected, let continuation = state.continuation else { return nil }
                state.continuation = nil
                return continuation
            }
            done?.resume()
        }
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let round: Round
        let baseline: EchoBaseline
        init(round: Round, baseline: EchoBaseline) {
            self.round = round
            self.baseline = baseline
        }
        func channelActive(context: ChannelHandlerContext) { baseline.register(context.channel) }
        func channelInactive(context: ChannelHandlerContext) { baseline.unregister(context.channel) }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            round.add(Self.unwrapInboundIn(data).readableBytes)
        }
    }

    let group: any EventLoopGroup
    private let round = Round()
    private let channels = Mutex<[ObjectIdentifier: (loop: any EventLoop, channels: [any Channel])]>([:])
    private let listener = Mutex<(any Channel)?>(nil)

    /// Creates the baseline server on `group`.
    public init(group: any EventLoopGroup) { self.group = group }

    func register(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel.eventLoop), default: (channel.eventLoop, [])].channels.append(channel) }
    }

    func unregister(_ channel: any Channel) {
        channels.withLock { channels in
            channels[ObjectIdentifier(channel.eventLoop)]?.channels.removeAll { $0 === channel }
        }
    }

    /// Connections open now.
    public var connectionCount: Int { channels.withLock { $0.values.reduce(0) { $0 + $1.channels.count } } }

    /// Listens on `host`, port 0; returns the port.
    public func start(host: String) async throws -> Int {
        let round = round
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(round: round, baseline: self))
                }
            }
            .bind(host: host, port: 0).get()
        listener.withLock { $0 = channel }
        return channel.localAddress?.port ?? 0
    }

    /// One round: `request` to every connection, until `replyBytes` bytes per connection came back.
    public func round(request: ByteBuffer, replyBytes: Int) async {
        let byLoop = channels.withLock { Array($0.values) }
        let total = byLoop.reduce(0) { $0 + $1.channels.count }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            round.state.withLock { state in
                state.expected = total * replyBytes
                state.received = 0
                state.continuation = continuation
            }
            for entry in byLoop {
                let targets = entry.channels
                entry.loop.execute {
                    for channel in targets { channel.writeAndFlush(request, promise: nil) }
                }
            }
        }
    }

    /// Closes everything.
    public func shutdown() async {
        try? await listener.withLock({ $0 })?.close()
        for entry in channels.withLock({ Array($0.values) }) {
            for channel in entry.channels { try? await channel.close() }
        }
    }
}
