import Foundation
import Testing
@testable import VEMBus
@testable import VEMTestKit
import VEMProtocol

/// The Bus conformance suite: one set of scenarios, run against every bus implementation (in-memory and hub now,
/// NATS later). Each function takes a fresh harness and checks the contract of DESIGN.md §3.
enum Conformance {
    /// `join` with the identity on connect, `leave` on a graceful stop, `disconnect` on a kill.
    static func membership(_ bus: some BusHarness) async throws {
        let a = try await bus.startClient(name: "alpha", group: "atlas")
        let joinA = try await bus.events.first("join alpha") { if case .join(let id, _) = $0 { id.name == "alpha" } else { false } }
        #expect(joinA == .join(a.identity, resumed: false))
        #expect(a.identity.group == "atlas")

        let scratch = try ScratchDirectory()
        defer { scratch.cleanup() }
        let beta = try await bus.startKillableClient(
            name: "beta", logFile: scratch.url.appendingPathComponent("beta.log"), commandDelayMilliseconds: 0)
        _ = try await bus.events.first("join beta") { if case .join(let id, _) = $0 { id.name == "beta" } else { false } }
        #expect(bus.manager.members().map(\.name) == ["alpha", "beta"])
        #expect(bus.manager.isConnected("alpha") && bus.manager.isConnected("beta") && !bus.manager.isConnected("gamma"))

        await a.stop()
        let left = try await bus.events.first("leave alpha") { if case .leave(let name, _) = $0 { name == "alpha" } else { false } }
        #expect(left == .leave(name: "alpha", reason: "bye: shutdown"))
        #expect(bus.manager.members().map(\.name) == ["beta"])
        #expect(!bus.manager.isConnected("alpha"))

        await beta.kill()
        _ = try await bus.events.first("disconnect beta") { if case .disconnect("beta", _) = $0 { true } else { false } }
        #expect(bus.manager.members().isEmpty)
        #expect(!bus.events.elements.contains { if case .leave("beta", _) = $0 { true } else { false } })
    }

    /// A killed Client is a `disconnect`, its restart a `join` with a new incarnation; every command ends with a
    /// result or `.unknown`, none runs twice, all in order.
    static func killAndRestart(_ bus: some BusHarness) async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.cleanup() }
        let logFile = scratch.url.appendingPathComponent("gamma.log")
        // 200 ms a command: the 35 after the fifth take 7 s, so the kill (as soon as the fifth's outcome is seen)
        // comes before they are done even when a loaded machine is slow to wake this task.
        let first = try await bus.startKillableClient(name: "gamma", logFile: logFile, commandDelayMilliseconds: 200)
        let join1 = try await bus.events.first("first join") { if case .join(let id, _) = $0 { id.name == "gamma" } else { false } }
        guard case .join(let identity1, _) = join1 else { return }

        let total = 40
        var pending: [PendingCommand] = []
        for i in 1...total { pending.append(try bus.manager.submit("cmd-\(i)", arguments: [], to: "gamma")) }
        #expect(pending.map(\.seq) == Array(1...UInt64(total)))
        let fifth = pending[4]
        let early = try await withTimeout(.seconds(20), "command 5") { await fifth.outcome() }
        #expect(early.isResult)
        await first.kill()
        _ = try await bus.events.first("disconnect after kill") { if case .disconnect("gamma", _) = $0 { true } else { false } }

        _ = try await bus.startKillableClient(name: "gamma", logFile: logFile, commandDelayMilliseconds: 0)
        let join2 = try await bus.events.first("join with a new incarnation") {
            if case .join(let id, let resumed) = $0 { id.name == "gamma" && id.incarnation != identity1.incarnation && !resumed } else { false }
        }
        #expect(join2 != join1)
        let order = bus.events.elements
        let disconnectIndex = order.firstIndex { if case .disconnect("gamma", _) = $0 { true } else { false } }
        let joinIndex = order.firstIndex(of: join2)
        #expect(disconnectIndex != nil && joinIndex != nil && disconnectIndex! < joinIndex!, "disconnect, then join")

        let outcomes = try await awaitOutcomes(of: pending)
        // The new incarnation takes new commands.
        let after = try (1...3).map { i in try bus.manager.submit("after-\(i)", arguments: [], to: "gamma") }
        let afterOutcomes = try await awaitOutcomes(of: after)
        #expect(afterOutcomes.allSatisfy { $0.isResult })
        #expect(after.map(\.seq) == (1...3).map { UInt64(total + $0) })

        let lines = try String(contentsOf: logFile, encoding: .utf8).split(separator: "\n").map(String.init)
        let executed = lines.compactMap { line -> UInt64? in UInt64(line.split(separator: " ").first ?? "") }
        #expect(executed == executed.sorted(), "in order")
        #expect(Set(executed).count == executed.count, "never twice")
        #expect(lines.suffix(3) == (1...3).map { "\(total + $0) after-\($0)" })
        for line in lines.dropLast(3) {
            let parts = line.split(separator: " ")
            #expect(parts.count == 2 && "cmd-\(parts[0])" == parts[1], "line names its command")
        }
        var unknown = 0
        for (index, outcome) in outcomes.enumerated() {
            let seq = UInt64(index + 1)
            switch outcome {
            case .result(let result):
                #expect(result.status == .ok)
                #expect(executed.contains(seq), "a result only for an executed command")
            case .unknown:
                unknown += 1
            case .cancelled:
                Issue.record("no command may be cancelled under the resend policy")
            }
        }
        #expect(outcomes[0...4].allSatisfy { $0.isResult })
        #expect(unknown > 0, "the kill came before the last commands finished (each takes 200 ms: 7 s after the fifth)")
    }

    /// Ordered commands to 100 Clients while a tenth of them lose their connection at random: nothing lost,
    /// nothing run twice, nothing out of order.
    static func orderedCommandsUnderDisconnects(_ bus: some BusHarness, seed: UInt64 = 42) async throws {
        let clientCount = 100
        let perClient = 20
        var logs: [CommandLog] = []
        var clients: [any TestClient] = []
        for i in 0..<clientCount {
            let log = CommandLog()
            logs.append(log)
            clients.append(try await bus.startClient(name: "c\(i)", group: i % 2 == 0 ? "even" : "odd", log: log))
        }
        for i in 0..<clientCount {
            _ = try await bus.events.first("join c\(i)") { if case .join(let id, _) = $0 { id.name == "c\(i)" } else { false } }
        }
        var random = SeededRandom(seed: seed)
        let flaky = Set((0..<clientCount).shuffled(using: &random).prefix(clientCount / 10))
        var pending: [[PendingCommand]] = Array(repeating: [], count: clientCount)
        for round in 1...perClient {
            for i in 0..<clientCount {
                pending[i].append(try bus.manager.submit("cmd-\(round)", arguments: [], to: "c\(i)"))
            }
            for i in flaky where random.next() % 4 == 0 { clients[i].dropConnection() }
            await Task.yield()
        }
        let outcomes: [CommandOutcome]
        do {
            outcomes = try await awaitOutcomes(of: pending.flatMap { $0 }, within: .seconds(60))
        } catch {
            for i in 0..<clientCount where pending[i].contains(where: { $0.currentOutcome == nil }) {
                Issue.record("c\(i): manager \(bus.diagnose("c\(i)")); client \(clients[i].diagnosis)")
            }
            throw error
        }
        for i in 0..<clientCount {
            let mine = outcomes[(i * perClient)..<((i + 1) * perClient)]
            #expect(mine.allSatisfy { $0.isResult }, "client c\(i): every command has a result")
            #expect(logs[i].all == (1...perClient).map { "\($0) cmd-\($0)" }, "client c\(i): once each, in order")
        }
        // Awaited, not read from `elements` at once: the recorder takes events off the stream in its own task.
        _ = try await bus.events.first("a dropped connection") { if case .disconnect = $0 { true } else { false } }
        for client in clients { await client.stop() }
    }

    /// Regular messages to one Client, a group, all; and a property round on a group.
    static func broadcastToGroup(_ bus: some BusHarness) async throws {
        var clients: [any TestClient] = []
        for i in 0..<6 {
            clients.append(try await bus.startClient(name: "g\(i)", group: i < 3 ? "atlas" : "cms"))
        }
        for i in 0..<6 {
            _ = try await bus.events.first("join g\(i)") { if case .join(let id, _) = $0 { id.name == "g\(i)" } else { false } }
            _ = try await clients[i].events.first("welcome g\(i)") { if case .connected = $0 { true } else { false } }
        }
        let toAtlas = Message.event(Event(kind: "to-atlas"))
        let toAll = Message.event(Event(kind: "to-all"))
        let toOne = Message.event(Event(kind: "to-g4"))
        #expect(bus.manager.send(toAtlas, to: .group("atlas")) == 3)
        #expect(bus.manager.send(toOne, to: .client("g4")) == 1)
        #expect(bus.manager.send(toAll, to: .all) == 6)
        for (i, client) in clients.enumerated() {
            _ = try await client.events.first("to-all at g\(i)") { $0 == .message(toAll) }
            let got = Set(client.events.elements.compactMap { if case .message(.event(let e)) = $0 { e.kind } else { nil } })
            var expected: Set<String> = ["to-all"]
            if i < 3 { expected.insert("to-atlas") }
            if i == 4 { expected.insert("to-g4") }
            #expect(got == expected, "g\(i) got exactly its messages")
        }
        let round = await bus.manager.collectProperties(["name"], from: .group("cms"), timeout: .seconds(10))
        #expect(Set(round.replies.keys) == ["g3", "g4", "g5"])
        #expect(round.missing.isEmpty)
        #expect(round.replies["g4"]?.readings.first?.outcome == .value(.string("g4")))
        for client in clients { await client.stop() }
    }

    /// Bad input closes only the offending connection, with a logged reason; the Manager and other Clients go on.
    static func badInputIsContained(_ bus: some BusHarness) async throws {
        let log = CommandLog()
        let good = try await bus.startClient(name: "good", log: log)
        _ = try await bus.events.first("join good") { if case .join(let id, _) = $0 { id.name == "good" } else { false } }

        // A wrong token, a wrong (software) version: rejected.
        let wrongToken = try await bus.startClient(
            name: "intruder", group: nil, token: "wrong", version: "1.0.0", log: CommandLog())
        let tokenError = await wrongToken.runResult()
        #expect((tokenError as? BusError)?.reject?.reason == .badCredentials)
        // The refusal names the Client that was refused (issue 20).
        _ = try await bus.events.first("bad token refused, naming the Client") {
            if case .connectionRejected(_, let reason) = $0 {
                reason.hasPrefix("badCredentials") && reason.hasSuffix(#"(client "intruder")"#)
            } else { false }
        }
        let oldVersion = try await bus.startClient(
            name: "ancient", group: nil, token: nil, version: "0.9.1", log: CommandLog())
        let versionError = await oldVersion.runResult()
        #expect((versionError as? BusError)?.reject?.reason == .unsupportedVersion)
        _ = try await bus.events.first("old version refused") {
            if case .connectionRejected(_, let reason) = $0 { reason.hasPrefix("unsupportedVersion") } else { false }
        }

        // Raw bytes: garbage, a wrong protocol version byte, an oversized frame, a truncated frame.
        let cases: [(bytes: [UInt8], closeAfter: Bool, code: String)] = [
            ([0x00, 0x00, 0x00, 0x04, 0x02, 0xEE, 0xEE, 0xEE], false, "unknown_message_type"),
            ([0x00, 0x00, 0x00, 0x04, 0x01, 0x04, 0xAC, 0x02], false, "unsupported_version"),  // protocol 1
            ([0x00, 0x00, 0x00, 0x04, 0x07, 0x04, 0xAC, 0x02], false, "unsupported_version"),
            ([0x7F, 0xFF, 0xFF, 0xFF, 0x01], false, "oversized_frame"),
            ([0x00, 0x00, 0x00, 0x10, 0x02, 0x04], true, "truncated_frame"),
        ]
        for item in cases {
            let raw = try await bus.openRaw()
            await raw.write(item.bytes)
            if item.closeAfter { await raw.closeWrite() }
            _ = try await bus.events.first(item.code) {
                if case .connectionRejected(_, let reason) = $0 { reason.hasPrefix(item.code) } else { false }
            }
        }

        // An admitted Client that then sends garbage is disconnected with the reason.
        let raw = try await bus.openRaw()
        var hello: [UInt8] = []
        try Message.hello(Hello(name: "rogue", role: .dom0, host: "h", version: "1.0.0", incarnation: 7, token: bus.token))
            .encodeFrame(into: &hello)
        await raw.write(hello + [0x00, 0x00, 0x00, 0x03, 0x02, 0x07, 0xFF])
        _ = try await bus.events.first("rogue disconnected") {
            if case .disconnect("rogue", let reason) = $0 { reason.hasPrefix("truncated_frame") || reason.hasPrefix("malformed_field") } else { false }
        }

        // The Manager and the good Client go on.
        let command = try bus.manager.submit("still-here", arguments: [], to: "good")
        let outcome = try await withTimeout(.seconds(20), "command after bad input") { await command.outcome() }
        #expect(outcome.isResult)
        #expect(log.all == ["1 still-here"])
        #expect(bus.manager.members().map(\.name) == ["good"])
        #expect(!bus.events.elements.contains { if case .disconnect("good", _) = $0 { true } else { false } })
        await good.stop()
    }
}

extension CommandOutcome {
    var isResult: Bool { if case .result = self { true } else { false } }
}
