import Foundation
import NIOCore
import NIOPosix
import Synchronization
import VEMHub
import VEMNATS
import VEMProtocol

/// N simulated Clients of the NATS bus for `vem bench-clients --mode nats`: each one a raw NATS protocol
/// connection over NIO (libnats spends threads per connection, which does not scale to thousands in one
/// process), logged in as its own user, speaking the bus's envelopes: `hello` on a session, a `property` reply to
/// every `get_property`, ack and result for every command, heartbeats, a new session after a `bye`.
final class NATSSimulatedClients: Sendable {
    struct Configuration: Sendable {
        var host: String
        var port: Int
        var count: Int
        var token: String
        var site: String
        var passwords: [String: String]
        var heartbeatInterval: Duration = .seconds(5)
        var concurrentConnects = 256
    }

    let configuration: Configuration
    let group: any EventLoopGroup
    private let channels = Mutex<[any Channel]>([])
    private let handlers = Mutex<[NIOLoopBound<NATSSimHandler>]>([])

    init(configuration: Configuration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// Connects every client and returns once every one was welcomed.
    func connectAll() async throws {
        try await inBatches(configuration.count, width: configuration.concurrentConnects) { try await self.connect(index: $0) }
    }

    private func connect(index: Int) async throws {
        let name = "sim\(index)"
        guard let password = configuration.passwords[name] else {
            throw NATSError(.invalidInput, "no credentials for \(name)")
        }
        let subjects = try NATSSubjects(site: configuration.site)
        let configuration = configuration
        let ready = group.any().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: ready.futureResult.eventLoop)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = NATSSimHandler(
                        name: name, password: password, subjects: subjects, token: configuration.token,
                        session: UInt64(index + 1) << 20, heartbeat: configuration.heartbeatInterval, ready: ready)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    self.handlers.withLock { $0.append(NIOLoopBound(handler, eventLoop: channel.eventLoop)) }
                }
            }
            .connect(host: configuration.host, port: configuration.port).get()
        channels.withLock { $0.append(channel) }
        try await ready.futureResult.get()
    }

    /// Pushes unsolicited `property` messages from up to `senders` clients, `burst` NATS messages per write.
    func ingest(burst: Int, duration: Duration, senders: Int) async throws {
        let (seconds, attoseconds) = duration.components
        let deadline = NIODeadline.now() + .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let chosen = handlers.withLock { Array($0.prefix(senders)) }
        var futures: [EventLoopFuture<Void>] = []
        for bound in chosen {
            let promise = bound.eventLoop.makePromise(of: Void.self)
            bound.eventLoop.execute { bound.value.startPumping(burst: burst, until: deadline, done: promise) }
            futures.append(promise.futureResult)
        }
        for future in futures { try await future.get() }
    }

    /// Closes every connection.
    func closeAll() async {
        for channel in channels.withLock({ $0 }) { try? await channel.close() }
    }
}

/// One simulated Client on its event loop: a NATS protocol parser (INFO, PING, MSG, -ERR) and the bus envelope.
final class NATSSimHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let name: String
    let password: String
    let subjects: NATSSubjects
    let token: String
    let heartbeat: Duration
    let ready: EventLoopPromise<Void>
    private let managerSubject: String
    private var session: UInt64
    private var pending: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var out: ByteBuffer?
    private var wrote = false
    private var readyDone = false
    private var timer: RepeatedTask?
    private var pump: (frames: ByteBuffer, deadline: NIODeadline, done: EventLoopPromise<Void>)?

    init(
        name: String, password: String, subjects: NATSSubjects, token: String, session: UInt64, heartbeat: Duration,
        ready: EventLoopPromise<Void>
    ) {
        self.name = name
        self.password = password
        self.subjects = subjects
        self.token = token
        self.session = session
        self.heartbeat = heartbeat
        self.ready = ready
        managerSubject = subjects.manager(name)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        out = context.channel.allocator.buffer(capacity: 512)
        let connect = #"{"verbose":false,"pedantic":false,"user":"\#(name)","pass":"\#(password)","name":"\#(name)"}"#
        out?.writeString("CONNECT \(connect)\r\nSUB \(subjects.client(name)) 1\r\nSUB \(subjects.all) 2\r\n")
        sayHello()
        flush()
        let period = TimeAmount.nanoseconds(Int64(heartbeat.components.seconds) * 500_000_000)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            bound.value.heartbeatIfIdle()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        if pending == nil { pending = incoming } else { pending?.writeBuffer(&incoming) }
        parse()
        flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        settle(ClosedError())
        pump?.done.succeed()
        pump = nil
        self.context = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pumpOnce() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    private func parse() {
        while var buffer = pending {
            guard let lineEnd = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return }
            let lineLength = lineEnd - buffer.readerIndex + 1
            // The line without its CR LF ("\r\n" is one Character in Swift: cut bytes, not characters).
            let crlf = lineLength >= 2 && buffer.getInteger(at: lineEnd - 1, as: UInt8.self) == UInt8(ascii: "\r") ? 2 : 1
            guard let line = buffer.getString(at: buffer.readerIndex, length: lineLength - crlf) else { return }
            if line.hasPrefix("MSG ") {
                let fields = line.split(separator: " ")
                guard let size = fields.last.flatMap({ Int($0) }) else { return }
                guard buffer.readableBytes >= lineLength + size + 2 else { return }  // wait for the payload
                buffer.moveReaderIndex(forwardBy: lineLength)
                let envelope = buffer.withUnsafeReadableBytes { raw in
                    try? NATSEnvelope(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<size]))
                }
                buffer.moveReaderIndex(forwardBy: size + 2)
                pending = buffer
                if let envelope { handle(envelope) }
            } else {
                buffer.moveReaderIndex(forwardBy: lineLength)
                pending = buffer
                if line.hasPrefix("PING") { out?.writeString("PONG\r\n") }
                if line.hasPrefix("-ERR") { FileHandle.standardError.write(Data("\(name): \(line)\n".utf8)) }
            }
            if pending?.readableBytes == 0 { pending = nil }
        }
    }

    private func handle(_ envelope: NATSEnvelope) {
        guard envelope.session == 0 || envelope.session == session else { return }
        for message in envelope.messages {
            switch message {
            case .welcome: settle(nil)
            case .reject(let reject): settle(RejectedError(reason: "\(reject.reason)"))
            case .getProperty(let request): publish([BenchFrames.propertyReport(requestID: request.requestID)])
            case .command(let command):
                publish([.commandAck(CommandAck(through: command.seq)), .commandResult(CommandResult(seq: command.seq, status: .ok))])
            case .bye where envelope.session == session:
                session += 1
                sayHello()
            default: break
            }
        }
    }

    private func sayHello() {
        publish([.hello(Hello(name: name, role: .domU, host: "bench", version: "1.0.0", incarnation: 1, token: token))])
    }

    private func publish(_ messages: [Message]) {
        let payload = NATSEnvelope(session: session, messages: messages).encoded().bytes
        out?.writeString("PUB \(managerSubject) \(payload.count)\r\n")
        out?.writeBytes(payload)
        out?.writeString("\r\n")
        wrote = true
    }

    private func flush() {
        guard let context, let buffer = out, buffer.readableBytes > 0 else { return }
        context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        out = context.channel.allocator.buffer(capacity: 512)
    }

    private func heartbeatIfIdle() {
        if !wrote { publish([.heartbeat(Heartbeat())]) }
        wrote = false
        flush()
    }

    private func settle(_ error: (any Error)?) {
        guard !readyDone else { return }
        readyDone = true
        if let error { ready.fail(error) } else { ready.succeed() }
    }

    func startPumping(burst: Int, until deadline: NIODeadline, done: EventLoopPromise<Void>) {
        guard let context else {
            done.succeed()
            return
        }
        let payload = NATSEnvelope(session: session, messages: [BenchFrames.propertyReport(requestID: 0)]).encoded().bytes
        var frames = context.channel.allocator.buffer(capacity: (payload.count + 64) * burst)
        for _ in 0..<max(1, burst) {
            frames.writeString("PUB \(managerSubject) \(payload.count)\r\n")
            frames.writeBytes(payload)
            frames.writeString("\r\n")
        }
        pump = (frames, deadline, done)
        pumpOnce()
    }

    private func pumpOnce() {
        guard let pump, let context else { return }
        guard NIODeadline.now() < pump.deadline else {
            self.pump = nil
            pump.done.succeed()
            return
        }
        guard context.channel.isWritable else { return }
        context.writeAndFlush(Self.wrapOutboundOut(pump.frames), promise: nil)
        wrote = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute { bound.value.pumpOnce() }
    }

    struct RejectedError: Error { let reason: String }
    struct ClosedError: Error {}
}
