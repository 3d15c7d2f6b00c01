import Foundation
import Logging
import Synchronization
import Testing
import VEMBus
import VEMConfig
import VEMCore
import VEMManager
import VEMProtocol
import VEMTrust

/// Issue 17 part 2 in the Manager: `vm.create` carries a credential for that VM alone on the wire, and nowhere
/// else — not the journal, the logs, the API or the dashboard; `vm.destroy` revokes it in the hub's live list.
@Suite struct VMCredentialIssuingTests {
    /// Every log line with its metadata.
    final class Lines: Sendable {
        let value = Mutex<[String]>([])
    }

    struct FullCapture: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            lines.value.withLock { $0.append("\(event.message) \(all)") }
        }
    }

    /// A site with a VM-credential issuer under `dir/ca` (made at the first call): group B, a property round every
    /// 5 ticks, then `triggers`; with `journal`, the journal file's path.
    static func trustedSite(dir: String, journal: String? = nil, triggers: String) throws -> String {
        let ca = SiteCADirectory(path: dir + "/ca")
        if !FileManager.default.fileExists(atPath: ca.certificatePath) { try ca.initialize(days: 1) }
        let manager = try ca.issue(name: "manager", role: .manager, hosts: ["127.0.0.1"], days: 1)
        let issuer = try ca.createIssuer(name: "manager-issuer", days: 1)
        return """
            [manager]
            default_triggers = no
            \(journal.map { "journal = \($0)" } ?? "")
            tls_ca = \(ca.certificatePath)
            tls_certificate = \(manager.certificate)
            tls_key = \(manager.key)
            vm_issuer_certificate = \(issuer.certificate)
            vm_issuer_key = \(issuer.key)
            vm_credential_lifetime = 1h

            [group:B]
            share = 100
            vm_vcpus = 2
            vm_memory_mib = 2048

            [query]
            expr = { True }
            cmd = { sender.send_get_property() }
            ticks = 5

            """ + triggers
    }

    static func configuration(dir: String) throws -> String {
        try trustedSite(
            dir: dir,
            triggers: """
                [make]
                expr = { len(manager.clients) == 1 }
                cmd = { vm.create("B") }
                ticks = 10

                [unmake]
                expr = { True }
                cmd = { vm.destroy(vm="B-vm-1") }
                ticks = 15
                """)
    }

    @Test func vmCreateCarriesTheVMsCredentialOnTheWireOnlyAndDestroyRevokesIt() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vem-vmcred-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let site = try loadSite(try Self.configuration(dir: dir))
        let journal = try Journal(path: dir + "/journal.sqlite")
        let lines = Lines()
        let logger = Logger(label: "test") { _ in FullCapture(lines: lines) }
        try await Harness.run(site: site, journal: journal, logger: logger, plainBus: true) { h in
            let host = PoolFakes.dom0(h.bus, "h1")
            try await h.with([host]) {
                await h.advance(by: 5)
                await waitUntil("hypervisor properties") { h.snapshot.clients["h1"]?.properties["hypervisor"] != nil }
                await h.advance(by: 5)
                await waitUntil("vm.create done") {
                    ((try? await h.journal.allCommands()) ?? []).contains { $0.name == "vm.create" && $0.state == .done }
                }
                // On the wire: the credential of B-vm-1 alone, group B, role domU, an hour long.
                let create = try #require(host.executedCommands.first { $0.name == "vm.create" })
                let argument = try #require(create.arguments.first { $0.name == "credential" })
                guard case .string(let text) = argument.value else { throw CancellationError() }
                let credential = try VMCredential(oemString: text)
                #expect(credential.identity.name == "B-vm-1" && credential.identity.group == "B")
                #expect(credential.identity.role == .domU)
                #expect(abs(credential.notAfter.timeIntervalSinceNow - 3_600) < 120)
                let serial = credential.identity.serial
                #expect(h.manager.trust.serial(of: "B-vm-1") == serial)
                #expect(!h.manager.trust.revocations.contains(serial))
                // The secret parts: the key and the whole string (its certificate parts are public, but the
                // string as a whole holds the key).
                let key = String(text.dropFirst(VMCredential.prefix.count).prefix { $0 != "." })
                #expect(key.count > 40)

                // Journaled without it.
                let journaled = try #require(try await h.journal.allCommands().first { $0.name == "vm.create" })
                #expect(!journaled.arguments.contains { $0.name == "credential" })
                #expect(journaled.arguments.contains { $0.name == "vm" })

                // t=15: destroyed, and revoked in the hub's live list at once.
                await h.advance(by: 5)
                await waitUntil("vm.destroy sent") { host.executedCommands.contains { $0.name == "vm.destroy" } }
                #expect(h.manager.trust.revocations.contains(serial))
                #expect(h.manager.trust.serial(of: "B-vm-1") == nil)

                // Nowhere else: the API, the snapshot, the dashboard, the logs, the journal's file.
                var outputs: [String] = []
                let api = OperatorAPI(manager: h.manager)
                for path in ["/v1/status", "/v1/clients", "/v1/props", "/v1/commands", "/v1/decisions", "/v1/vms",
                    "/v1/triggers", "/v1/snapshot", "/v1/explain"]
                {
                    outputs.append(String(decoding: await api.get(path).body, as: UTF8.self))
                }
                #expect(outputs[3].contains("vm.create"), "the commands' listing shows the command")
                outputs.append(DashboardPage.page(await DashboardState.read(h.manager)))
                outputs.append(lines.value.withLock { $0.joined(separator: "\n") })
                #expect(outputs.last?.contains("VM credential issued") == true)
                for output in outputs {
                    #expect(!output.contains(key) && !output.contains(text))
                }
                let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("journal") }
                #expect(!files.isEmpty)
                for file in files {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))
                    #expect(bytes.range(of: Data(key.utf8)) == nil, "\(file) holds the key")
                }
            }
        }
    }
}

/// The VM credentials a Manager issued and revoked outlive it: noted (serials and expiry, no key) in a 0600 file
/// beside the journal and taken back at the next start.
@Suite struct VMCredentialStoreTests {
    @Test func aRestartedManagerStillRevokesAndRefuses() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vem-vmstore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ca = SiteCADirectory(path: dir + "/ca")
        try ca.initialize(days: 1)
        let made = try ca.createIssuer(name: "manager-issuer", days: 1)
        var settings = ManagerSettings()
        settings.tls = TLSSettings(ca: ca.certificatePath, certificate: "unused", key: "unused")
        settings.vmCredentials = VMCredentialSettings(certificate: made.certificate, key: made.key, lifetime: 3_600)
        let store = dir + "/journal.sqlite.credentials"
        let logger = Logger(label: "test")
        func create(_ trust: ManagerTrust, _ vm: String) throws -> VMCredential {
            let arguments = trust.wireArguments(
                command: "vm.create", arguments: [NamedValue("group", .string("g")), NamedValue("vm", .string(vm))])
            guard case .string(let text)? = arguments.first(where: { $0.name == "credential" })?.value else {
                throw CancellationError()
            }
            return try VMCredential(oemString: text)
        }

        let first = try ManagerTrust.load(settings, store: store, logger: logger)
        let one = try create(first, "g-vm-1")
        let two = try create(first, "g-vm-2")
        _ = first.wireArguments(command: "vm.destroy", arguments: [NamedValue("vm", .string("g-vm-1"))])
        #expect(first.revocations.contains(one.identity.serial))

        // Restarted: g-vm-1's credential is still refused, g-vm-2's is known and revoked at its destroy.
        let second = try ManagerTrust.load(settings, store: store, logger: logger)
        #expect(second.revocations.contains(one.identity.serial))
        #expect(!second.revocations.contains(two.identity.serial))
        #expect(second.serial(of: "g-vm-2") == two.identity.serial && second.serial(of: "g-vm-1") == nil)
        _ = second.wireArguments(command: "vm.destroy", arguments: [NamedValue("vm", .string("g-vm-2"))])
        let third = try ManagerTrust.load(settings, store: store, logger: logger)
        #expect(third.revocations.contains(two.identity.serial) && third.revocations.contains(one.identity.serial))

        // The file holds serials and times only, owner-only.
        let mode = ((try FileManager.default.attributesOfItem(atPath: store))[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let text = try String(contentsOfFile: store, encoding: .utf8)
        let key = String(try one.oemString.dropFirst(VMCredential.prefix.count).prefix { $0 != "." })
        #expect(!text.contains(key) && text.contains(one.identity.serial))
    }
}
