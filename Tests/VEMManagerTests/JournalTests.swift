import Foundation
import Testing
import VEMBus
import VEMManager
import VEMProtocol

/// The journal on an in-memory database, with its real migrator.
@Suite struct JournalTests {
    let identity = ClientIdentity(name: "h1", role: .dom0, host: "h1", version: "1.0.0", incarnation: UInt64.max - 3)

    @Test func commandsMoveThroughTheirStatesAndFinalStatesStick() async throws {
        let journal = try Journal(path: nil)
        _ = try await journal.insertCommand(
            client: "h1", seq: 1, name: "reboot", arguments: [NamedValue("force", .bool(true)), NamedValue("n", .float(2.5))],
            trigger: "t", at: 10)
        try await journal.update(client: "h1", seq: 1, to: .sent, at: 11)
        try await journal.update(client: "h1", seq: 1, to: .done, result: "ok", at: 12)
        let changed = try await journal.update(client: "h1", seq: 1, to: .unknown, at: 13)
        #expect(!changed)
        let record = try #require(try await journal.allCommands().first)
        #expect(record.state == .done)
        #expect(record.result == "ok")
        #expect(record.trigger == "t")
        #expect(record.command.arguments == [NamedValue("force", .bool(true)), NamedValue("n", .float(2.5))])
        let counts = try await journal.commandCounts()
        #expect(counts == ["done": 1])
        let inventory = try await journal.inventory()
        #expect(inventory.isEmpty)
    }

    @Test func theSameSequenceNumberCannotBeJournaledTwice() async throws {
        let journal = try Journal(path: nil)
        _ = try await journal.insertCommand(client: "h1", seq: 1, name: "a", arguments: [], trigger: nil, at: 1)
        await #expect(throws: ManagerError.self) {
            _ = try await journal.insertCommand(client: "h1", seq: 1, name: "b", arguments: [], trigger: nil, at: 2)
        }
    }

    @Test func aFileJournalSurvivesReopening() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vem-journal-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let journal = try Journal(path: path)
            try await journal.recordClient(identity, at: 1)
            _ = try await journal.insertCommand(client: "h1", seq: 1, name: "a", arguments: [], trigger: "t", at: 1)
        }
        let reopened = try Journal(path: path)
        let plan = try await reopened.recoveryPlan()
        #expect(plan.streams.count == 1)
        #expect(plan.streams.first?.identity == identity)
        #expect(plan.streams.first?.commands.map(\.seq) == [1])
    }

    @Test func theRecoveryPlanResumesFromTheFirstOpenCommand() async throws {
        let journal = try Journal(path: nil)
        try await journal.recordClient(identity, at: 1)
        for seq in UInt64(1)...6 {
            _ = try await journal.insertCommand(client: "h1", seq: seq, name: "c\(seq)", arguments: [], trigger: nil, at: 1)
        }
        for seq in [UInt64(1), 2, 4] { try await journal.update(client: "h1", seq: seq, to: .done, at: 2) }
        try await journal.update(client: "h1", seq: 3, to: .sent, at: 2)
        let plan = try await journal.recoveryPlan()
        let stream = try #require(plan.streams.first)
        #expect(stream.startingAfter == 2)
        // 4 is done but keeps its place so that 5 and 6 keep their numbers; the Client de-duplicates it.
        #expect(stream.commands.map(\.seq) == [3, 4, 5, 6])
        #expect(stream.commands.map(\.name) == ["c3", "c4", "c5", "c6"])
        #expect(plan.abandoned.isEmpty)
    }

    @Test func aClientWithoutOpenCommandsResumesAfterItsLastNumber() async throws {
        let journal = try Journal(path: nil)
        try await journal.recordClient(identity, at: 1)
        _ = try await journal.insertCommand(client: "h1", seq: 7, name: "x", arguments: [], trigger: nil, at: 1)
        try await journal.update(client: "h1", seq: 7, to: .failed, at: 2)
        let plan = try await journal.recoveryPlan()
        #expect(plan.streams.first?.startingAfter == 7)
        #expect(plan.streams.first?.commands.isEmpty == true)
    }

    @Test func openCommandsOfAnUnknownClientAreAbandoned() async throws {
        let journal = try Journal(path: nil)
        _ = try await journal.insertCommand(client: "ghost", seq: 1, name: "x", arguments: [], trigger: nil, at: 1)
        let plan = try await journal.recoveryPlan()
        #expect(plan.streams.isEmpty)
        #expect(plan.abandoned.map(\.client) == ["ghost"])
    }
}
