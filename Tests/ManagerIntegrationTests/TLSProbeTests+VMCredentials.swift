import Foundation
import Synchronization
import Testing
import VEMBus
import VEMHub
import VEMCore
import VEMProtocol
import VEMTrust

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension TLSProbeTests {
    /// Issue 17 part 2 against a real `vem manager` on mutual TLS holding an issuing intermediate (`vem ca
    /// issuer`): a VM credential it issues joins as its VM, not as another VM nor as anything but a guest, and a
    /// revocation takes effect without a restart (SIGHUP reads `tls_revoked` again).
    @Test func aVMCredentialJoinsAsItsVMOnlyAndARevocationNeedsNoRestart() async throws {
        let dir = try scratchDirectory("tls-vm-credential")
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = try TLSSite(dir)
        let made = try site.ca.createIssuer(name: "manager-issuer")
        let read = { (path: String) in try String(contentsOfFile: path, encoding: .utf8) }
        try "".write(toFile: site.ca.revokedPath, atomically: true, encoding: .utf8)
        try """
        [manager]
        listen = 127.0.0.1:0
        http_listen = 127.0.0.1:0
        \(site.lines("manager"))
        tls_revoked = \(site.ca.revokedPath)
        vm_issuer_certificate = \(made.certificate)
        vm_issuer_key = \(made.key)
        vm_credential_lifetime = 10m
        """.write(to: dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)
        let portFile = dir.appendingPathComponent("ports.json")
        let manager = try Daemon.start(
            ["manager", "-c", "site.ini", "--port-file", portFile.path], in: dir,
            stdout: dir.appendingPathComponent("manager.out"), stderr: dir.appendingPathComponent("manager.err"))
        defer { if !manager.hasExited { kill(manager.pid, SIGKILL) } }
        let ports = try #require(await waitForPorts(portFile, manager: manager))

        // Credentials as the Manager issues them at vm.create, written out as the guest's agent writes them.
        let issuer = try VMCredentialIssuer(
            certificatePEM: try read(made.certificate), keyPEM: try read(made.key),
            siteCAPEM: try read(site.ca.certificatePath))
        func files(_ credential: VMCredential, _ name: String) throws -> TLSFiles {
            let pem = try credential.pem()
            let files = TLSFiles(
                ca: dir.appendingPathComponent("\(name).ca").path, certificate: dir.appendingPathComponent("\(name).crt").path,
                key: dir.appendingPathComponent("\(name).key").path)
            try pem.ca.write(toFile: files.ca, atomically: true, encoding: .utf8)
            try pem.chain.write(toFile: files.certificate, atomically: true, encoding: .utf8)
            try pem.key.write(toFile: files.key, atomically: true, encoding: .utf8)
            return files
        }
        let vm1 = try issuer.issue(vm: "atlas-vm-1", group: "atlas", lifetime: 600)
        let vm1Files = try files(vm1, "atlas-vm-1")
        _ = try files(try issuer.issue(vm: "atlas-vm-2", group: "atlas", lifetime: 600), "atlas-vm-2")
        func hello(_ name: String, role: ClientRole = .domU, group: String? = "atlas") -> Message {
            probeHello(name, role: role, group: group, vmID: role == .domU ? name : nil, token: "")
        }

        // As its VM: welcomed. As another VM, or another group: refused.
        #expect(welcomed(try await tlsFirstAnswer(hello("atlas-vm-1"), port: ports.hub, files: vm1Files, from: "127.0.2.1")))
        let asOther = try await tlsFirstAnswer(hello("atlas-vm-2"), port: ports.hub, files: vm1Files, from: "127.0.2.2")
        #expect(rejectReason(asOther) == .forbidden)
        let otherGroup = try await tlsFirstAnswer(
            hello("atlas-vm-1", group: "cms"), port: ports.hub, files: vm1Files, from: "127.0.2.3")
        #expect(rejectReason(otherGroup) == .forbidden)
        // The intermediate signs guests only: a Dom0 certificate below it gets no answer, even if it says what
        // it is (a stolen Manager key cannot make hosts or batch servers).
        let rogue = try SiteCA(certificatePEM: try read(made.certificate), keyPEM: try read(made.key))
            .issue(name: "evil-host", role: .dom0, days: 1)
        let rogueFiles = TLSFiles(
            ca: site.ca.certificatePath, certificate: dir.appendingPathComponent("evil.crt").path,
            key: dir.appendingPathComponent("evil.key").path)
        try (rogue.certificatePEM + "\n" + (try read(made.certificate))).write(
            toFile: rogueFiles.certificate, atomically: true, encoding: .utf8)
        try rogue.keyPEM.write(toFile: rogueFiles.key, atomically: true, encoding: .utf8)
        let asHost = try await tlsFirstAnswer(
            hello("evil-host", role: .dom0, group: nil), port: ports.hub, files: rogueFiles, from: "127.0.2.4")
        #expect(asHost == nil)

        // Revoked in the file, then SIGHUP: refused from then on, by the same Manager process.
        _ = try site.ca.revoke(vm1.identity.serial)
        kill(manager.pid, SIGHUP)
        var attempt = 10
        let refused = await poll("the revocation of atlas-vm-1 read again") { () -> Bool? in
            attempt += 1
            let answer = try? await tlsFirstAnswer(
                hello("atlas-vm-1"), port: ports.hub, files: vm1Files, from: "127.0.2.\(attempt)", seconds: 5)
            return answer == nil ? true : nil
        }
        #expect(refused == true)
        #expect(!manager.hasExited)
        let log = manager.stderr
        #expect(log.contains("a certificate issued below the site CA may name a guest (domU) only"), "\(log)")
        #expect(log.contains("revoked certificate refused"))
        #expect(!log.contains(try vm1.oemString))
        await manager.stop(SIGTERM)
    }
}

extension TLSProbeTests {
    /// The whole path against a real `vem manager` on mutual TLS: a Dom0 (over TLS with its certificate) receives
    /// `vm.create` with the VM's credential, the guest joins with it as its VM (not as another), and once the VM
    /// is destroyed (`vem vm destroy`) the hub refuses it, with no restart.
    @Test func aVMCredentialFromVMCreateIsRefusedOnceTheVMIsDestroyed() async throws {
        let dir = try scratchDirectory("tls-vm-destroy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = try TLSSite(dir)
        try site.issue("host1", .dom0)
        let made = try site.ca.createIssuer(name: "manager-issuer")
        try """
        [manager]
        listen = 127.0.0.1:0
        http_listen = 127.0.0.1:0
        \(site.lines("manager"))
        vm_issuer_certificate = \(made.certificate)
        vm_issuer_key = \(made.key)
        default_triggers = no
        heartbeat_interval = 1s

        [group:atlas]
        share = 100
        vm_vcpus = 1
        vm_memory_mib = 512

        [query]
        expr = { True }
        cmd = { sender.send_get_property() }
        ticks = 1

        # The host reports room for one VM until it has created one: later creates are refused.
        [make]
        expr = { len(manager.clients) >= 1 }
        cmd = { vm.create("atlas") }
        ticks = 1
        """.write(to: dir.appendingPathComponent("site.ini"), atomically: true, encoding: .utf8)
        let portFile = dir.appendingPathComponent("ports.json")
        let manager = try Daemon.start(
            ["manager", "-c", "site.ini", "--port-file", portFile.path], in: dir,
            stdout: dir.appendingPathComponent("manager.out"), stderr: dir.appendingPathComponent("manager.err"))
        defer { if !manager.hasExited { kill(manager.pid, SIGKILL) } }
        let ports = try #require(await waitForPorts(portFile, manager: manager))

        // The Dom0: reports room for one VM, keeps every command it runs.
        let received = Mutex<[Command]>([])
        let handlers = ClientHandlers(
            execute: { command in
                received.withLock { $0.append(command) }
                return CommandResult(seq: command.seq, status: .ok, exitCode: 0)
            },
            properties: { request in
                let free: Int64 = received.withLock { $0.contains { $0.name == "vm.create" } } ? 0 : 1
                let room: WireValue = .object([
                    "cpus": .int(1), "memory_kib": .int(1_048_576), "free_vcpus": .int(free),
                    "unallocated_memory_kib": .int(1_048_576), "free_memory_kib": .int(1_048_576),
                ])
                return PropertyReport(
                    requestID: request.requestID,
                    readings: [PropertyReading(name: "hypervisor", timestampMilliseconds: 0, outcome: .value(room))])
            })
        let dom0 = HubClient(
            configuration: HubClientConfiguration(
                host: "127.0.0.1", port: ports.hub, heartbeatInterval: .seconds(1),
                tls: try TLSContexts.client(site.files("host1"))),
            identity: ClientIdentity(
                name: "host1", role: .dom0, host: "host1", version: "1.0.0", incarnation: UInt64.random(in: 1...UInt64.max)),
            token: "", handlers: handlers)
        let running = Task { try? await dom0.run() }
        defer { running.cancel() }

        let create = try #require(
            await poll("vm.create reaches the Dom0 (manager: \(manager.stderr))") {
                received.withLock { $0.first { $0.name == "vm.create" } }
            })
        func argument(_ name: String) -> String? {
            for a in create.arguments where a.name == name { if case .string(let s) = a.value { return s } }
            return nil
        }
        let vm = try #require(argument("vm"))
        let credential = try VMCredential(oemString: try #require(argument("credential")))
        #expect(credential.identity.name == vm && credential.identity.group == "atlas" && credential.identity.role == .domU)
        let pem = try credential.pem()
        let files = TLSFiles(
            ca: dir.appendingPathComponent("guest.ca").path, certificate: dir.appendingPathComponent("guest.crt").path,
            key: dir.appendingPathComponent("guest.key").path)
        try pem.ca.write(toFile: files.ca, atomically: true, encoding: .utf8)
        try pem.chain.write(toFile: files.certificate, atomically: true, encoding: .utf8)
        try pem.key.write(toFile: files.key, atomically: true, encoding: .utf8)
        // (Without a VM id the pool does not take the join as the VM's guest: the VM stays booting, and the
        // operator may destroy it at once.)
        func hello(_ name: String) -> Message {
            probeHello(name, role: .domU, group: "atlas", vmID: nil, token: "")
        }
        #expect(welcomed(try await tlsFirstAnswer(hello(vm), port: ports.hub, files: files, from: "127.0.3.1")))
        let asOther = try await tlsFirstAnswer(hello("atlas-vm-99"), port: ports.hub, files: files, from: "127.0.3.2")
        #expect(rejectReason(asOther) == .forbidden)

        // Destroyed by the operator: the Manager sends vm.destroy and revokes the credential.
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(ports.http)/v1/vms/destroy?vm=\(vm)")!)
        request.httpMethod = "POST"
        let (body, _) = try await URLSession.shared.data(for: request)
        let answer = String(decoding: body, as: UTF8.self)
        #expect(answer.contains("\"accepted\":true"), "\(answer)")
        let destroyed = await poll("vm.destroy reaches the Dom0 (manager: \(manager.stderr.suffix(3000)))") {
            received.withLock { $0.contains { $0.name == "vm.destroy" } } ? true : nil
        }
        #expect(destroyed == true)
        let refused = try await tlsFirstAnswer(hello(vm), port: ports.hub, files: files, from: "127.0.3.3", seconds: 10)
        #expect(refused == nil)
        let log = manager.stderr
        #expect(log.contains("VM credential revoked") && log.contains("revoked certificate refused"), "\(log)")
        #expect(!log.contains(try credential.oemString))
        running.cancel()
        await manager.stop(SIGTERM)
    }
}
