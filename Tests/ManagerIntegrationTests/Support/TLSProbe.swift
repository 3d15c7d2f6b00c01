import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import VEMProtocol
import VEMTrust

/// A site for the TLS probes, made with the library calls `vem ca` uses: the site CA, the Manager's certificate
/// for 127.0.0.1, and Client certificates; and a foreign CA with a Manager certificate of its own.
struct TLSSite {
    let dir: URL
    let ca: SiteCADirectory
    let foreign: SiteCADirectory

    init(_ dir: URL) throws {
        self.dir = dir
        ca = SiteCADirectory(path: dir.appendingPathComponent("ca").path)
        foreign = SiteCADirectory(path: dir.appendingPathComponent("foreign-ca").path)
        try ca.initialize()
        try foreign.initialize(commonName: "Not the site CA")
        _ = try ca.issue(name: "manager", role: .manager, hosts: ["127.0.0.1"])
        _ = try foreign.issue(name: "manager", role: .manager, hosts: ["127.0.0.1"])
    }

    /// Issues `NAME.pem`/`NAME.key` from the site CA.
    func issue(_ name: String, _ role: TrustRole, group: String? = nil) throws {
        _ = try ca.issue(name: name, role: role, group: group, hosts: ["127.0.0.1"])
    }

    /// The files of a holder of the site CA.
    func files(_ name: String) -> TLSFiles {
        TLSFiles(ca: ca.certificatePath, certificate: ca.file("\(name).pem"), key: ca.file("\(name).key"))
    }

    /// The `tls_*` lines of a holder.
    func lines(_ name: String) -> String {
        let f = files(name)
        return "tls_ca = \(f.ca)\ntls_certificate = \(f.certificate)\ntls_key = \(f.key)"
    }
}

/// Sends one hello over mutual TLS with a certificate and returns the Manager's first answer (nil: closed
/// without one, or nothing within `seconds`). Each probe that fails a login comes from its own 127.x `source`, since
/// failed logins back off per address.
func tlsFirstAnswer(
    _ hello: Message, port: Int, files: TLSFiles, from source: String, seconds: Int64 = 30
) async throws -> Message? {
    let context = try TLSContexts.client(files)
    let group = MultiThreadedEventLoopGroup.singleton
    let promise = group.next().makePromise(of: Message?.self)
    let bootstrap = ClientBootstrap(group: group).bind(to: try SocketAddress(ipAddress: source, port: 0)).channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
            try channel.pipeline.syncOperations.addHandler(FirstMessage(promise: promise))
        }
    }
    let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
    let frame = try hello.encodedFrame()
    // A refused handshake closes the channel: the write fails and the answer is nil.
    try? await channel.writeAndFlush(channel.allocator.buffer(bytes: frame))
    let timeout = channel.eventLoop.scheduleTask(in: .seconds(seconds)) { promise.succeed(nil) }
    let answer = try await promise.futureResult.get()
    timeout.cancel()
    try? await channel.close()
    return answer
}

/// Decodes the first message on a connection (nil when it closes first).
final class FirstMessage: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Message?>
    var decoder = FrameDecoder()
    var done = false

    init(promise: EventLoopPromise<Message?>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        decoder.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
        if !done, let message = try? decoder.next() {
            done = true
            promise.succeed(message)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.succeed(nil)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// A fake Manager: accepts connections on 127.0.0.1 (with TLS when given a context, presenting its own
/// certificate and asking for none), and keeps every byte a Client sends after the handshake.
final class FakeManager: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let received = Mutex<[UInt8]>([])
    let connections = Mutex(0)
    private let channel = Mutex<(any Channel)?>(nil)

    /// Starts listening; returns the port.
    func start(tls: NIOSSLContext?) async throws -> Int {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    self.connections.withLock { $0 += 1 }
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(Keeper(fake: self))
                }
            }
        let listener = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = listener }
        return listener.localAddress?.port ?? 0
    }

    func stop() async {
        try? await channel.withLock { $0 }?.close()
        try? await group.shutdownGracefully()
    }

    final class Keeper: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let fake: FakeManager
        init(fake: FakeManager) { self.fake = fake }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            fake.received.withLock { $0 += bytes }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}

/// A server context for a fake Manager: its certificate, no client certificate asked.
func fakeManagerContext(_ files: TLSFiles) throws -> NIOSSLContext {
    var configuration = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem)))
    configuration.certificateVerification = .none
    return try NIOSSLContext(configuration: configuration)
}
