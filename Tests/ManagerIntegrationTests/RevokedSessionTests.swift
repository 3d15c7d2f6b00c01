import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing
import VEMBus
import VEMHub
import VEMManager
import VEMProtocol
import VEMTrust

/// A revocation ends the sessions already open with that certificate, not only the next handshake (issue 17):
/// the hub on mutual TLS over loopback with the Manager's live trust (``VEMManager/ManagerTrust``), Clients that
/// joined with a VM credential the Manager issued and with a site certificate; `vm.destroy` and a `tls_revoked`
/// read again (what SIGHUP does) close theirs, and leave the others open.
@Suite(.timeLimit(.minutes(2))) struct RevokedSessionTests {
    /// One mutual-TLS connection that said hello and stays open (no heartbeats: the hub's interval is long).
    final class HeldConnection: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let welcome: EventLoopPromise<Message?>
        let closed: EventLoopPromise<Void>
        var decoder = FrameDecoder()
        var answered = false

        init(on loop: any EventLoop) {
            welcome = loop.makePromise()
            closed = loop.makePromise()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            decoder.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
            if !answered, let message = try? decoder.next() {
                answered = true
                welcome.succeed(message)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !answered {
                answered = true
                welcome.succeed(nil)
            }
            closed.succeed()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

        /// Connects from `source`, says `hello`, and returns once the hub answered (welcome expected).
        static func open(_ hello: Message, port: Int, files: TLSFiles, from source: String) async throws
            -> (HeldConnection, any Channel)
        {
            let context = try TLSContexts.client(files)
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let held = HeldConnection(on: loop)
            let channel = try await ClientBootstrap(group: loop)
                .bind(to: try SocketAddress(ipAddress: source, port: 0))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHandler(held)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            try await channel.writeAndFlush(channel.allocator.buffer(bytes: try hello.encodedFrame()))
            let answer = try await held.welcome.futureResult.get()
            guard case .welcome? = answer else {
                Issue.record("not welcomed: \(String(describing: answer))")
                throw CancellationError()
            }
            return (held, channel)
        }
    }

    /// Whether the hub closed `held`'s connection within 20 s (a session kept past its revocation fails the
    /// test here rather than hanging it).
    func closedSoon(_ held: HeldConnection) async throws -> Bool {
        let loop = held.closed.futureResult.eventLoop
        let answer = loop.makePromise(of: Bool.self)
        let done = Mutex(false)
        let finish = { @Sendable (value: Bool) in
            if done.withLock({ done in
                defer { done = true }
                return !done
            }) {
                answer.succeed(value)
            }
        }
        let timer = loop.scheduleTask(in: .seconds(20)) { finish(false) }
        held.closed.futureResult.whenSuccess {
            timer.cancel()
            finish(true)
        }
        return try await answer.futureResult.get()
    }

    /// Waits for the hub's membership to say `name` left (a disconnection or leave), or fails after 30 s.
    func waitGone(_ name: String, _ hub: HubServer) async {
        let deadline = ContinuousClock.now + .seconds(30)
        while hub.isConnected(name), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        #expect(!hub.isConnected(name), "\(name) still has its session")
    }

    @Test func vmDestroyAndARereadRevocationFileCloseTheLiveSessionsOfTheirCertificates() async throws {
        let dir = try scratchDirectory("revoked-session")
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = try TLSSite(dir)
        try site.issue("host1", .dom0)
        try site.issue("host2", .dom0)
        let made = try site.ca.createIssuer(name: "manager-issuer", days: 1)
        try "".write(toFile: site.ca.revokedPath, atomically: true, encoding: .utf8)
        let read = { (path: String) in try String(contentsOfFile: path, encoding: .utf8) }
        let issuer = try VMCredentialIssuer(
            certificatePEM: try read(made.certificate), keyPEM: try read(made.key),
            siteCAPEM: try read(site.ca.certificatePath))
        let trust = ManagerTrust(
            revocations: RevocationList(), revokedFile: site.ca.revokedPath, issuer: issuer, lifetime: 600)
        var engine = ManagerEngine.Configuration(heartbeatInterval: .seconds(600))
        engine.admission.requiresCertificate = true
        let hub = HubServer(
            configuration: HubConfiguration(
                host: "127.0.0.1", port: 0, engine: engine,
                tls: HubServerTLS(
                    context: try TLSContexts.server(site.files("manager")), revocations: trust.revocations,
                    siteCASubject: try TLSContexts.subject(ofPEMFile: site.ca.certificatePath))),
            logger: Logger(label: "test.hub"))
        let port = try await hub.start()

        // Two guests, each with the credential vm.create carried on the wire, and two Dom0s.
        func guestFiles(_ vm: String) throws -> TLSFiles {
            let arguments = trust.wireArguments(
                command: "vm.create", arguments: [NamedValue("group", .string("atlas")), NamedValue("vm", .string(vm))])
            guard case .string(let text)? = arguments.first(where: { $0.name == "credential" })?.value else {
                throw CancellationError()
            }
            let pem = try VMCredential(oemString: text).pem()
            let files = TLSFiles(
                ca: dir.appendingPathComponent("\(vm).ca").path,
                certificate: dir.appendingPathComponent("\(vm).crt").path,
                key: dir.appendingPathComponent("\(vm).key").path)
            try pem.ca.write(toFile: files.ca, atomically: true, encoding: .utf8)
            try pem.chain.write(toFile: files.certificate, atomically: true, encoding: .utf8)
            try pem.key.write(toFile: files.key, atomically: true, encoding: .utf8)
            return files
        }
        func guest(_ vm: String) -> Message { probeHello(vm, role: .domU, group: "atlas", vmID: nil, token: "") }
        let (vm1, vm1Channel) = try await HeldConnection.open(
            guest("atlas-vm-1"), port: port, files: try guestFiles("atlas-vm-1"), from: "127.0.4.1")
        let (vm2, vm2Channel) = try await HeldConnection.open(
            guest("atlas-vm-2"), port: port, files: try guestFiles("atlas-vm-2"), from: "127.0.4.2")
        let (host1, host1Channel) = try await HeldConnection.open(
            probeHello("host1", role: .dom0, token: ""), port: port, files: site.files("host1"), from: "127.0.4.3")
        let (host2, host2Channel) = try await HeldConnection.open(
            probeHello("host2", role: .dom0, token: ""), port: port, files: site.files("host2"), from: "127.0.4.4")
        defer {
            for channel in [vm1Channel, vm2Channel, host1Channel, host2Channel] { channel.close(promise: nil) }
        }
        #expect(hub.isConnected("atlas-vm-1") && hub.isConnected("atlas-vm-2") && hub.isConnected("host1"))

        // vm.destroy of atlas-vm-1 (what the Sender hands the bus goes through the trust): its session ends.
        _ = trust.wireArguments(command: "vm.destroy", arguments: [NamedValue("vm", .string("atlas-vm-1"))])
        #expect(try await closedSoon(vm1), "atlas-vm-1's connection outlived its credential's revocation")
        await waitGone("atlas-vm-1", hub)

        // host1 revoked in the file, read again as SIGHUP or `vem reload` does: its session ends.
        _ = try site.ca.revoke("host1")
        #expect(trust.reloadRevocations()?.contains("1 serial") == true)
        #expect(try await closedSoon(host1), "host1's connection outlived its certificate's revocation")
        await waitGone("host1", hub)

        // The others keep theirs: still members, and their connections still open.
        #expect(hub.isConnected("atlas-vm-2") && hub.isConnected("host2"))
        #expect(vm2Channel.isActive && host2Channel.isActive)
        _ = (vm2, host2)
        await hub.shutdown()
    }
}
