import Foundation
import Testing
import VEMBus
import VEMCore
import VEMManager
import VEMProtocol
import VEMTestKit
import VEMTrust

/// A `vm.create` resent from the journal after a Manager restart carries a VM credential again (issue 17 part 2):
/// the journal keeps none (its SQLite files are read byte by byte), so the restarted Manager issues a fresh one.
@Suite(.timeLimit(.minutes(2))) struct VMCredentialRecoveryTests {
    static func site(dir: String, creating: Bool) throws -> String {
        try VMCredentialIssuingTests.trustedSite(
            dir: dir, journal: "\(dir)/journal.sqlite",
            triggers: creating ? "[make]\nexpr = { len(manager.clients) == 1 }\ncmd = { vm.create(\"B\") }\nticks = 10\n" : "")
    }

    /// The first life: `vm.create` is journaled and sent, but never reaches the Dom0; then the Manager dies.
    /// - Returns: The serial of the credential it issued.
    func firstLife(dir: String) async throws -> String {
        let journal = try Journal(path: dir + "/journal.sqlite")
        let faults = InMemoryBus.Faults(seed: 1, dropRate: 1, types: [.command])
        var serial: String?
        try await Harness.run(
            site: try loadSite(try Self.site(dir: dir, creating: true)), journal: journal, faults: faults,
            plainBus: true
        ) { h in
            let host = PoolFakes.dom0(h.bus, "h1")
            try await h.with([host]) {
                await h.advance(by: 5)
                await waitUntil("hypervisor properties") { h.snapshot.clients["h1"]?.properties["hypervisor"] != nil }
                await h.advance(by: 5)
                await waitUntil("vm.create sent") {
                    ((try? await journal.allCommands()) ?? []).contains { $0.name == "vm.create" && $0.state == .sent }
                }
                #expect(host.executedCommands.isEmpty)
                serial = h.manager.trust.serial(of: "B-vm-1")
                host.client.kill()
            }
        }
        return try #require(serial)
    }

    @Test func aVMCreateResentAfterARestartCarriesAFreshCredentialThatNoJournalFileHolds() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vem-vmcred-restart-\(UUID().uuidString)"
        )
        .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await firstLife(dir: dir)

        // Restarted on the same journal file: the same incarnation of h1 comes back and gets the open vm.create.
        let journal = try Journal(path: dir + "/journal.sqlite")
        try await Harness.run(
            site: try loadSite(try Self.site(dir: dir, creating: false)), journal: journal, plainBus: true
        ) { h in
            // The open vm.create, and the PoolTimer's vm.list of h1 when it was journaled before the kill.
            let open = try await journal.allCommands().filter { !$0.state.isFinal }
            #expect(open.filter { $0.name == "vm.create" }.count == 1)
            #expect(open.allSatisfy { $0.name == "vm.create" || $0.name == "vm.list" })
            #expect(h.recovery.resumed == open.count)
            let host = PoolFakes.dom0(h.bus, "h1")
            try await h.with([host]) {
                await waitUntil("vm.create resent") { host.executedCommands.contains { $0.name == "vm.create" } }
                await h.manager.activity.quiet()
                let create = try #require(host.executedCommands.first { $0.name == "vm.create" })
                let argument = try #require(
                    create.arguments.first { $0.name == "credential" }, "the resent vm.create carries no credential")
                guard case .string(let text) = argument.value else { throw CancellationError() }
                let credential = try VMCredential(oemString: text)
                #expect(credential.identity.name == "B-vm-1" && credential.identity.group == "B")
                #expect(credential.identity.role == .domU)
                // A fresh one; the one issued before the restart stays valid (the Dom0 may have run that create
                // already) until the VM's destroy revokes both.
                #expect(credential.identity.serial != first)
                #expect(h.manager.trust.serials(of: "B-vm-1") == [first, credential.identity.serial])
                #expect(!h.manager.trust.revocations.contains(first))
                _ = h.manager.trust.wireArguments(
                    command: "vm.destroy", arguments: [NamedValue("vm", .string("B-vm-1"))])
                #expect(h.manager.trust.revocations.contains(first))
                #expect(h.manager.trust.revocations.contains(credential.identity.serial))

                // No journal file holds a credential: not the key, not the string, not its prefix.
                let key = String(text.dropFirst(VMCredential.prefix.count).prefix { $0 != "." })
                #expect(key.count > 40)
                let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("journal") }
                #expect(files.contains("journal.sqlite") && files.contains("journal.sqlite.credentials"))
                for file in files {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))
                    #expect(bytes.range(of: Data(key.utf8)) == nil, "\(file) holds the key")
                    #expect(bytes.range(of: Data(VMCredential.prefix.utf8)) == nil, "\(file) holds a credential")
                }
                let journaled = try #require(try await journal.allCommands().first { $0.name == "vm.create" })
                #expect(!journaled.arguments.contains { $0.name == "credential" })
                #expect(journaled.state == .done)
            }
        }
    }
}
