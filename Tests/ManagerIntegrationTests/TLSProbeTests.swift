import Foundation
import Testing
import VEMProtocol
import VEMTrust

#if canImport(Glibc)
    import Glibc
#endif

/// Mutual TLS on the hub (issue 17), probed with real `vem manager` and `vem agent` processes: a fake Manager
/// gets no hello and no token, and a certificate is its holder's identity (no other name, role or group).
/// Serialized and in the heavy phase: each test runs real processes.
@Suite(.serialized) struct TLSProbeTests {
    static let token = "secret-token-4711"

    func agentConfig(name: String, role: String = "dom0", group: String? = nil, port: Int, site: TLSSite) -> String {
        """
        [client]
        name = \(name)
        role = \(role)
        \(group.map { "group = \($0)\nhost = host1" } ?? "")
        manager = 127.0.0.1:\(port)
        token = \(Self.token)
        heartbeat_interval = 1s
        \(site.lines(name))
        """
    }

    /// A Manager with the hub on mutual TLS.
    func startManager(_ site: TLSSite, revoked: Bool = false, http: String = "127.0.0.1:0") async throws -> (
        Daemon, Ports
    ) {
        try """
        [manager]
        listen = 127.0.0.1:0
        http_listen = \(http)
        \(site.lines("manager"))
        \(revoked ? "tls_revoked = \(site.ca.revokedPath)" : "")
        """.write(to: site.dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)
        let portFile = site.dir.appendingPathComponent("ports.json")
        try? FileManager.default.removeItem(at: portFile)
        let manager = try Daemon.start(
            ["manager", "-c", "site.ini", "--port-file", portFile.path], in: site.dir,
            stdout: site.dir.appendingPathComponent("manager.out"),
            stderr: site.dir.appendingPathComponent("manager.err"))
        guard let ports = await waitForPorts(portFile, manager: manager) else {
            kill(manager.pid, SIGKILL)
            throw CancellationError()
        }
        return (manager, ports)
    }

    func rejectReason(_ message: Message?) -> Reject.Reason? {
        if case .reject(let r)? = message { return r.reason }
        return nil
    }

    func welcomed(_ message: Message?) -> Bool {
        if case .welcome? = message { return true }
        return false
    }

    func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    @Test func aFakeManagerGetsNoHelloAndNoToken() async throws {
        let dir = try scratchDirectory("tls-fake")
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = try TLSSite(dir)
        try site.issue("host1", .dom0)
        let foreign = TLSFiles(
            ca: site.foreign.certificatePath, certificate: site.foreign.file("manager.pem"),
            key: site.foreign.file("manager.key"))
        // A fake that speaks TLS with a certificate of another CA, one with a Client's certificate of the site CA
        // (valid for 127.0.0.1, but not a Manager's), and one that speaks plain TCP.
        try site.issue("host2", .dom0)
        for (label, tls) in [
            ("foreign", try fakeManagerContext(foreign)), ("client-cert", try fakeManagerContext(site.files("host2"))),
            ("plain", nil),
        ] {
            let fake = FakeManager()
            let port = try await fake.start(tls: tls)
            let config = dir.appendingPathComponent("agent-\(label).ini")
            try agentConfig(name: "host1", port: port, site: site).write(to: config, atomically: true, encoding: .utf8)
            let agent = try Daemon.start(
                ["agent", "-c", config.path], in: dir, stdout: dir.appendingPathComponent("agent-\(label).out"),
                stderr: dir.appendingPathComponent("agent-\(label).err"))
            let refused = await poll("the agent refuses the \(label) fake (\(agent.stderr))", seconds: 30) {
                agent.stderr.contains("the manager was not verified: no hello sent") ? true : nil
            }
            await agent.stop(SIGTERM)
            let received = fake.received.withLock { $0 }
            await fake.stop()
            #expect(refused == true)
            #expect(fake.connections.withLock { $0 } >= 1, "\(label): the agent dialled the fake")
            #expect(!contains(received, Self.token), "\(label): the token reached the fake")
            #expect(!contains(received, "host1"), "\(label): the hello reached the fake")
            if label == "client-cert" {
                #expect(agent.stderr.contains("it presented a dom0 certificate (host2)"), "\(agent.stderr)")
            }
            if tls != nil {
                #expect(received.isEmpty, "\(label): no application byte after a refused handshake")
            } else {
                #expect(received.first == 0x16, "\(label): only a TLS ClientHello (record type 22) was sent")
            }
        }
    }

    @Test func aCertificateIsItsHoldersIdentity() async throws {
        let dir = try scratchDirectory("tls-identity")
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = try TLSSite(dir)
        try site.issue("host1", .dom0)
        try site.issue("vm-1", .domU, group: "atlas")
        try site.issue("ctl", .batch)
        try site.issue("gone", .dom0)
        _ = try site.ca.revoke("gone")
        let (manager, ports) = try await startManager(site, revoked: true)
        defer { if !manager.hasExited { kill(manager.pid, SIGKILL) } }
        let port = ports.hub

        // A guest's certificate claiming the batch role (fake demand) or a Dom0 (it would receive vm.create).
        let asBatch = try await tlsFirstAnswer(
            probeHello("vm-1", role: .batch, token: ""), port: port, files: site.files("vm-1"), from: "127.0.1.21")
        #expect(rejectReason(asBatch) == .forbidden)
        let asDom0 = try await tlsFirstAnswer(
            probeHello("vm-1", role: .dom0, token: ""), port: port, files: site.files("vm-1"), from: "127.0.1.22")
        #expect(rejectReason(asDom0) == .forbidden)
        // A guest speaking for another group.
        let otherGroup = try await tlsFirstAnswer(
            probeHello("vm-1", role: .domU, group: "cms", vmID: "vm-1", token: ""), port: port,
            files: site.files("vm-1"), from: "127.0.1.23")
        #expect(rejectReason(otherGroup) == .forbidden)
        // A certificate for name A saying hello as B (a host's name, the batch server's name).
        let asHost = try await tlsFirstAnswer(
            probeHello("host1", role: .dom0, token: ""), port: port, files: site.files("vm-1"), from: "127.0.1.24")
        #expect(rejectReason(asHost) == .forbidden)
        let asCtl = try await tlsFirstAnswer(probeHello("ctl", role: .batch, token: ""), port: port, files: site.files("host1"), from: "127.0.1.25")
        #expect(rejectReason(asCtl) == .forbidden)
        // The Manager's own certificate is no Client's.
        let asManager = try await tlsFirstAnswer(
            probeHello("manager", role: .dom0, token: ""), port: port, files: site.files("manager"), from: "127.0.1.26")
        #expect(rejectReason(asManager) == .forbidden)
        // A revoked certificate gets no answer.
        let revoked = try await tlsFirstAnswer(probeHello("gone", role: .dom0, token: ""), port: port, files: site.files("gone"), from: "127.0.1.27")
        #expect(revoked == nil)
        // A certificate of another CA does not get through the handshake.
        let foreign = try await tlsFirstAnswer(
            probeHello("manager", role: .dom0, token: ""), port: port,
            files: TLSFiles(
                ca: site.ca.certificatePath, certificate: site.foreign.file("manager.pem"),
                key: site.foreign.file("manager.key")), from: "127.0.1.30")
        #expect(foreign == nil)

        // Each holder as itself is welcomed (the probes above could have passed).
        let guest = try await tlsFirstAnswer(
            probeHello("vm-1", role: .domU, group: "atlas", vmID: "vm-1", token: ""), port: port,
            files: site.files("vm-1"), from: "127.0.1.28")
        #expect(welcomed(guest))
        let batch = try await tlsFirstAnswer(probeHello("ctl", role: .batch, token: ""), port: port, files: site.files("ctl"), from: "127.0.1.29")
        #expect(welcomed(batch))

        // A real agent with its certificate joins.
        let config = dir.appendingPathComponent("host1.ini")
        try agentConfig(name: "host1", port: port, site: site).write(to: config, atomically: true, encoding: .utf8)
        let agent = try Daemon.start(
            ["agent", "-c", config.path], in: dir, stdout: dir.appendingPathComponent("host1.out"),
            stderr: dir.appendingPathComponent("host1.err"))
        let joined = await poll("host1 joins over TLS (manager: \(manager.stderr), agent: \(agent.stderr))") {
            manager.stderr.contains("client joined") && manager.stderr.contains("host1") ? true : nil
        }
        #expect(joined == true)
        await agent.stop(SIGTERM)

        let log = manager.stderr
        #expect(log.contains("the certificate is for vm-1, not for the name this hello claims"), "\(log)")
        #expect(log.contains("the certificate of vm-1 may join as domU only"))
        #expect(log.contains("revoked certificate refused"))
        await manager.stop(SIGTERM)
    }

    @Test func theOperatorAPIOffLoopbackWantsAnOperatorsCertificate() async throws {
        let dir = try scratchDirectory("tls-operator")
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = try TLSSite(dir)
        try site.issue("alice", .operator)
        try site.issue("host1", .dom0)
        // Off loopback (all addresses); reached here through 127.0.0.1, which the Manager's certificate names.
        let (manager, ports) = try await startManager(site, http: "0.0.0.0:0")
        defer { if !manager.hasExited { kill(manager.pid, SIGKILL) } }
        func vem(_ command: [String], _ url: String, as name: String?) async throws -> Finished {
            var arguments = command + ["--manager-url", url]
            if let name {
                let f = site.files(name)
                arguments += ["--tls-ca", f.ca, "--tls-certificate", f.certificate, "--tls-key", f.key]
            }
            return try await runVEM(arguments, in: dir, environment: ["USER": "alice"])
        }
        func status(_ url: String, as name: String?) async throws -> Finished {
            try await vem(["status", "--json"], url, as: name)
        }
        let https = "https://127.0.0.1:\(ports.http)"
        let alice = try await status(https, as: "alice")
        #expect(alice.status == 0, "\(alice.stderr)")
        #expect(alice.stdout.contains("\"clients\"") || alice.stdout.contains("bus"), "\(alice.stdout)")
        let host = try await status(https, as: "host1")
        #expect(host.status == 1, "a Dom0's certificate is no operator's")
        // The actions (POSTs) and the streamed ask over the same mutual TLS as the GETs.
        let pause = try await vem(["pause"], https, as: "alice")
        #expect(pause.status == 0 && pause.stdout == "the planner is paused\n", "\(pause.stdout)\(pause.stderr)")
        let paused = try await vem(["status"], https, as: "alice")
        #expect(paused.stdout.contains("planner: paused by the operator"), "\(paused.stdout)\(paused.stderr)")
        let ask = try await vem(["ask", "--timeout", "1"], https, as: "alice")
        #expect(ask.status == 0 && ask.stdout.hasPrefix("0 of 0 Clients answered"), "\(ask.stdout)\(ask.stderr)")
        let anonymous = try await vem(["resume"], https, as: nil)
        #expect(anonymous.status == 1 && anonymous.stderr.contains("needs the operator's certificate"), "\(anonymous.stderr)")
        let byHost = try await vem(["resume"], https, as: "host1")
        #expect(byHost.status == 1 && byHost.stdout.isEmpty, "a Dom0's certificate acts for no operator")
        let plainPause = try await vem(["resume"], "http://127.0.0.1:\(ports.http)", as: nil)
        #expect(plainPause.status == 1, "no action over plain HTTP off loopback")
        let stillPaused = try await vem(["status"], https, as: "alice")
        #expect(stillPaused.stdout.contains("planner: paused by the operator"), "\(stillPaused.stdout)")
        let resume = try await vem(["resume"], https, as: "alice")
        #expect(resume.status == 0 && resume.stdout == "the planner decides again\n", "\(resume.stdout)\(resume.stderr)")
        let resumed = try await vem(["status"], https, as: "alice")
        #expect(!resumed.stdout.contains("planner: paused"), "\(resumed.stdout)")
        let plain = try await status("http://127.0.0.1:\(ports.http)", as: nil)
        #expect(plain.status == 1, "plain HTTP is not served off loopback")
        #expect(manager.stderr.contains("operator API: connection refused"), "\(manager.stderr)")
        await manager.stop(SIGTERM)
    }

    @Test func theManagerRefusesPlainTCPOffLoopback() async throws {
        let dir = try scratchDirectory("tls-listen")
        defer { try? FileManager.default.removeItem(at: dir) }
        try "secret\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "[manager]\nlisten = 0.0.0.0:0\nhttp_listen = 127.0.0.1:0\ntoken_file = \(dir.path)/token\n".write(
            to: dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)
        let tokenOnly = try await runVEM(["manager", "-c", "site.ini"], in: dir)
        #expect(tokenOnly.status == 1)
        #expect(tokenOnly.stderr.contains("off loopback without TLS"), "\(tokenOnly.stderr)")
    }
}
