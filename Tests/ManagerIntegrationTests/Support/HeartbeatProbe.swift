import Dispatch
import NIOCore
import NIOPosix
import Synchronization
import VEMProtocol

/// An idle Client on the hub that notes when each of the hub's heartbeats arrives: the largest gap between two
/// says whether the hub's event loops kept their timers.
final class HeartbeatProbe: Sendable {
    private let arrivals = Mutex<[UInt64]>([])
    private let welcomed = Mutex<CheckedContinuation<Void, any Error>?>(nil)
    private let channel = Mutex<(any Channel)?>(nil)

    /// Connects and says hello; returns once welcomed.
    func connect(port: Int, token: String, heartbeat: Duration, group: any EventLoopGroup) async throws {
        let probe = self
        let ready = group.any().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: ready.futureResult.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(probe: probe, token: token, heartbeat: heartbeat, ready: ready))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        self.channel.withLock { $0 = channel }
        try await ready.futureResult.get()
    }

    /// Forgets the heartbeats seen so far (a measurement starts).
    func reset() { arrivals.withLock { $0 = [DispatchTime.now().uptimeNanoseconds] } }

    /// The largest gap, in seconds, between the start of the measurement, the heartbeats since, and now.
    func largestGap() -> Double {
        let times = arrivals.withLock { $0 } + [DispatchTime.now().uptimeNanoseconds]
        return zip(times, times.dropFirst()).map { Double($1 - $0) / 1e9 }.max() ?? 0
    }

    /// Closes the connection.
    func close() async { try? await channel.withLock { $0 }?.close() }

    fileprivate func heard() { arrivals.withLock { $0.append(DispatchTime.now().uptimeNanoseconds) } }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let probe: HeartbeatProbe
        let token: String
        let heartbeat: Duration
        let ready: EventLoopPromise<Void>
        var decoder = FrameDecoder()
        var timer: RepeatedTask?
        var settled = false

        init(probe: HeartbeatProbe, token: String, heartbeat: Duration, ready: EventLoopPromise<Void>) {
            self.probe = probe
            self.token = token
            self.heartbeat = heartbeat
            self.ready = ready
        }

        func channelActive(context: ChannelHandlerContext) {
            send(.hello(Hello(name: "probe", role: .domU, host: "probe", version: "1.0.0", incarnation: 1, token: token)), context)
            let period = TimeAmount.nanoseconds(nanoseconds(heartbeat) / 4)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                bound.value.0.send(.heartbeat(Heartbeat()), bound.value.1)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = Self.unwrapInboundIn(data)
            decoder.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
            while let message = try? decoder.next() {
                switch message {
                case .welcome: settle(nil)
                case .reject: settle(ProbeError())
                case .heartbeat: probe.heard()
                default: break
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            timer?.cancel()
            settle(ProbeError())
        }

        func settle(_ error: (any Error)?) {
            guard !settled else { return }
            settled = true
            if let error { ready.fail(error) } else { ready.succeed() }
        }

        func send(_ message: Message, _ context: ChannelHandlerContext) {
            var bytes: [UInt8] = []
            try? message.encodeFrame(into: &bytes)
            context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        }
    }

    struct ProbeError: Error {}
}

/// `duration` in nanoseconds.
func nanoseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
}
