import Foundation
import Synchronization
import Testing
import VEMBus
import VEMConfig
import VEMCore
import VEMProtocol
@testable import VEMRules

@testable import VEMManager

/// What keeps the Manager's work per event small at 10,000 Clients (issue 21): the `manager` global built only
/// when a pass reads it, a journal that syncs once per commit, the pool's snapshot holding only the Clients it
/// reads, and the inventory's changes found without rebuilding it.
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

    @Test func lenOfManagerClientsCountsTheSnapshotWithoutBuildingAndAgreesWithTheListBuiltLater() throws {
        let state = ManagerState()
        for i in 0..<5 {
            state.clientJoined(
                ClientIdentity(name: "c\(i)", role: .dom0, host: "c\(i)", version: "1", incarnation: 1), at: 1)
        }
        state.clientGone("c3", reason: "closed", at: 2)
        let builds = Count()
        let manager = LazyManagerObject(snapshot: { state.snapshot(at: 3) }) { snapshot in
            builds.value.withLock { $0 += 1 }
            return WorldView(snapshot, groups: []).managerObject
        }
        let count = try CompiledProgram(
            compiling: SourceText(standalone: "len(manager.clients)"), knownGlobals: ["manager"])
        let run = try count.run(globals: ["manager": .object(manager)])
        #expect(run.value == .int(4) && run.fastPaths == 1)
        #expect(!manager.isBuilt && builds.value.withLock { $0 } == 0)
        // A Client joins after the count: the list built later in the same pass is the counted snapshot's.
        state.clientJoined(ClientIdentity(name: "c9", role: .dom0, host: "c9", version: "1", incarnation: 1), at: 4)
        let names = try CompiledProgram(
            compiling: SourceText(standalone: "[c.name for c in manager.clients]"), knownGlobals: ["manager"])
        #expect(
            try names.evaluate(globals: ["manager": .object(manager)], limits: Limits())
                == .list(["c0", "c1", "c2", "c4"].map { .string($0) }))
        #expect(builds.value.withLock { $0 } == 1)
        #expect(try count.evaluate(globals: ["manager": .object(manager)], limits: Limits()) == .int(4))
    }

    @Test func theLazyManagerObjectTakesTheColumnarFastPaths() throws {
        let clients = (0..<50).map {
            SnapshotObject(typeName: "client", attributes: ["name": .string("c\($0)"), "ram_free": .int(Int64($0 % 7))])
        }
        let manager = LazyManagerObject { Snapshot(clients: clients).manager }
        let program = try CompiledProgram(
            compiling: SourceText(standalone: "max(manager.clients, key=lambda c: c.ram_free).name"),
            knownGlobals: ["manager"])
        let run = try program.run(globals: ["manager": .object(manager)])
        #expect(run.value == .string("c6"))
        #expect(run.fastPaths == 1)
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

    @Test func thePoolSnapshotHoldsTheHostsTheBatchClientAndTheGuestsOnly() {
        let state = ManagerState()
        func join(_ name: String, _ role: ClientRole, vm: String? = nil) {
            state.clientJoined(
                ClientIdentity(name: name, role: role, host: name, vmID: vm, version: "1", incarnation: 1), at: 1)
        }
        join("h1", .dom0)
        join("batch", .batch)
        join("atlas-vm-1", .domU, vm: "atlas-vm-1")
        join("c1", .domU)
        #expect(Set(state.poolSnapshot(at: 2).clients.keys) == ["h1", "batch", "atlas-vm-1"])
        #expect(state.snapshot(at: 2).clients.count == 4)
        // Kept as the state is: a report, a departure.
        let reading = PropertyReading(name: "hypervisor", timestampMilliseconds: 0, value: .object(["cpus": .int(8)]))
        state.propertiesReported(PropertyReport(readings: [reading]), from: "h1", at: 3)
        state.propertiesReported(PropertyReport(readings: [reading]), from: "c1", at: 3)
        state.clientGone("atlas-vm-1", reason: "closed", at: 4)
        let pool = state.poolSnapshot(at: 5)
        #expect(pool.clients["h1"] == state.snapshot(at: 5).clients["h1"])
        #expect(pool.clients["h1"]?.properties["hypervisor"]?.receivedAt == 3)
        #expect(pool.clients["atlas-vm-1"]?.connected == false)
        #expect(pool.clients["c1"] == nil)
    }

    @Test func theInventorysChangesAreWhatChangedSinceTheLastWrite() async {
        let pool = PoolController(
            groups: [GroupDefinition(name: "atlas", share: 50, location: SourceLocation(file: "t.ini", line: 1, column: 1))])
        _ = await pool.adopt([
            InventoryRecord(name: "atlas-vm-1", group: "atlas", host: "h1", state: "active", updatedAt: 5, createdAt: 3),
            // Journaled before creation times were kept: written again with one.
            InventoryRecord(name: "atlas-vm-2", group: "atlas", host: "h1", state: "active", updatedAt: 5),
            // Of no configured group: not adopted, so removed.
            InventoryRecord(name: "cms-vm-1", group: "cms", host: "h1", state: "active", updatedAt: 5, createdAt: 3),
        ])
        let first = await pool.inventoryChanges(at: 10)
        #expect(first.upserts.map(\.name) == ["atlas-vm-2"])
        #expect(first.upserts.first?.updatedAt == 10 && first.upserts.first?.createdAt == 5)
        #expect(first.removed == ["cms-vm-1"])
        #expect(await pool.inventoryChanges(at: 11).isEmpty, "nothing changed since")
    }

    @Test func theInventorysChangesAndTheTriggersViewFollowTheReconcilersChanges() async {
        let pool = PoolController(
            groups: [GroupDefinition(name: "atlas", share: 50, location: SourceLocation(file: "t.ini", line: 1, column: 1))])
        _ = await pool.adopt([
            InventoryRecord(name: "atlas-vm-1", group: "atlas", host: "h1", state: "booting", updatedAt: 5, createdAt: 3),
            InventoryRecord(name: "atlas-vm-2", group: "atlas", host: "h2", state: "active", updatedAt: 5, createdAt: 3),
        ])
        #expect(await pool.inventoryChanges(at: 10).isEmpty, "adopted as the journal holds them")
        #expect(pool.currentVMs().map(\.name) == ["atlas-vm-1", "atlas-vm-2"])
        #expect(pool.currentVMs().first?.clientJoined == false)
        // The guest joins: its registration cannot go out (no batch Client) and waits for a retry; the VM is
        // still booting for the journal, but the triggers see its guest.
        _ = await pool.clientJoined(vm: "atlas-vm-1", now: 20)
        #expect(await pool.inventoryChanges(at: 21).isEmpty)
        #expect(pool.currentVMs().first?.clientJoined == true)
        #expect(pool.currentVMs() == (await pool.vmReports()))
    }

    @Test func poolOutcomesQueuedOneAfterTheOtherAreOneJobAndNoJobOvertakesAnother() {
        func outcome(_ trigger: String) -> PoolController.Outcome { PoolController.Outcome(trigger: trigger) }
        var inbox = PoolInbox()
        let first = inbox.add(outcome("a"))
        #expect(first != nil, "a new batch: its job is queued")
        #expect(inbox.add(outcome("b")) == nil, "joins the batch queued last")
        inbox.close()  // another job queued behind it
        let second = inbox.add(outcome("c"))
        #expect(second != nil && second != first, "not merged into a batch with a job queued after it")
        #expect(inbox.take(first ?? 0).map(\.trigger) == ["a", "b"])
        #expect(inbox.add(outcome("d")) == nil, "the open batch has not started")
        #expect(inbox.take(second ?? 0).map(\.trigger) == ["c", "d"])
        #expect(inbox.add(outcome("e")) != nil, "a batch that started takes no more")
    }

    @Test func hostsThatJoinedTogetherAreListedOverTheListIntervalNotInOneBurst() async {
        let state = ManagerState()
        let reading = PropertyReading(name: "hypervisor", timestampMilliseconds: 0, value: .object(["cpus": .int(8)]))
        let names = (1...300).map { "h\($0)" }
        for name in names {
            state.clientJoined(
                ClientIdentity(name: name, role: .dom0, host: name, version: "1", incarnation: 1), at: 1)
            state.propertiesReported(PropertyReport(readings: [reading]), from: name, at: 1)
        }
        let pool = PoolController(
            groups: [GroupDefinition(name: "atlas", share: 50, location: SourceLocation(file: "t.ini", line: 1, column: 1))],
            listInterval: 60)
        // A tick every 10 s: 300 hosts over six ticks, 64 at least per tick (a small site's hosts at once).
        var listed: [[String]] = []
        for tick in 0..<6 {
            listed.append(await pool.hostsToList(state.poolSnapshot(at: 2), now: 2 + 10 * Double(tick), tickInterval: 10)
                .map(\.host))
        }
        #expect(listed.map(\.count) == [64, 64, 64, 64, 44, 0])
        #expect(Set(listed.joined()) == Set(names), "every host listed once")
        #expect(listed.joined().count == names.count)
        // Due again 60 s after its list, those listed first first.
        let again = await pool.hostsToList(state.poolSnapshot(at: 62), now: 62, tickInterval: 10).map(\.host)
        #expect(Set(again) == Set(listed[0]))
        // Without a tick interval (or a small site), every due host at once.
        let small = PoolController(
            groups: [GroupDefinition(name: "atlas", share: 50, location: SourceLocation(file: "t.ini", line: 1, column: 1))],
            listInterval: 60)
        #expect(await small.hostsToList(state.poolSnapshot(at: 2), now: 2).count == 300)
    }
}
