import Foundation
import Synchronization
import Testing
import VEMCore
import VEMProtocol
import VEMRules

@testable import VEMManager

/// What keeps the Manager's work per event small at 10,000 Clients (issue 21): the `manager` global built only
/// when a pass reads it, and a journal that syncs once per commit.
@Suite struct ScaleTests {
    final class Count: Sendable {
        let value = Mutex(0)
    }

    @Test func aPassBuildsTheManagerObjectAtItsFirstReadAndOnce() throws {
        let builds = Count()
        let manager = LazyManagerObject {
            builds.value.withLock { $0 += 1 }
            return Snapshot(clients: [SnapshotObject(typeName: "client", attributes: ["name": .string("c1")])]).manager
        }
        // `expr = { True }` and `cmd = { policy.rebalance() }` never read it.
        #expect(manager.typeName == "manager")
        #expect(!manager.isBuilt && builds.value.withLock { $0 } == 0)
        let program = try CompiledProgram(
            compiling: SourceText(standalone: "len(manager.clients)"), knownGlobals: ["manager"])
        for _ in 0..<3 {
            #expect(try program.evaluate(globals: ["manager": .object(manager)], limits: Limits()) == .int(1))
        }
        #expect(manager.isBuilt && builds.value.withLock { $0 } == 1)
    }

    @Test func aFileJournalWritesAheadToAPrivateLog() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vem-wal-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let journal = try Journal(path: path)
        _ = try await journal.insertCommand(client: "h1", seq: 1, name: "a", arguments: [], trigger: "t", at: 1)
        // The commit went to the write-ahead log, which is as private as the journal.
        let mode = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try await journal.allCommands().map(\.seq) == [1])
    }
}
