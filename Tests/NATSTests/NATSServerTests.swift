import Foundation
import Synchronization
import Testing
import VEMBus
import VEMNATS
import VEMProtocol
import VEMTestKit

/// Against a real nats-server started by the test (each test its own server and scratch directory; ~0.5 s each).
@Suite("NATS bus on a real server")
struct NATSServerTests {
    static var vem: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vem")
    }

    @Test func generatedConfigurationIsAcceptedByNatsServer() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        try "# site clients\nhost01\nhost02\nvm-atlas-1 atlas\n".write(
            toFile: "\(scratch.path)/clients.txt", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = Self.vem
        process.arguments = [
            "nats-config", "--clients", "\(scratch.path)/clients.txt", "--site", "perugia", "--output",
            "\(scratch.path)/accounts.conf", "--credentials", "\(scratch.path)/credentials.txt",
        ]
        let status = try await runProcess(process)
        #expect(status == 0)
        let text = try String(contentsOfFile: "\(scratch.path)/accounts.conf", encoding: .utf8)
        #expect(text.contains("vem.perugia.manager.vm-atlas-1"))
        #expect(text.contains("vem.perugia.group.atlas"))
        let credentials = try String(contentsOfFile: "\(scratch.path)/credentials.txt", encoding: .utf8)
        #expect(credentials.split(separator: "\n").map { $0.split(separator: " ")[0] } == [
            "manager", "sys", "host01", "host02", "vm-atlas-1",
        ])
        let (valid, output) = try await NATSServerProcess.validate(configPath: "\(scratch.path)/accounts.conf")
        #expect(valid, "nats-server -t: \(output)")
        #expect(output.contains("is valid"))
        // The check is real: a damaged copy is refused.
        try String(text.dropLast(30)).write(toFile: "\(scratch.path)/broken.conf", atomically: true, encoding: .utf8)
        #expect(try await NATSServerProcess.validate(configPath: "\(scratch.path)/broken.conf").valid == false)
    }

    @Test func badClientListIsAClearError() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        try "host01\nhost.02\n".write(toFile: "\(scratch.path)/clients.txt", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = Self.vem
        process.arguments = ["nats-config", "--clients", "\(scratch.path)/clients.txt", "--site", "s"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        let status = try await runProcess(process)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status != 0)
        #expect(message.contains("client name 'host.02' cannot be a NATS subject token"))
    }

    @Test func groupsAreCheckedAgainstTheSiteConfiguration() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let siteINI = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/site.ini").path
        try "vm1 atlas\nvm2 cms\n".write(toFile: "\(scratch.path)/good.txt", atomically: true, encoding: .utf8)
        try "vm1 atlas\nvm3 alice\n".write(toFile: "\(scratch.path)/bad.txt", atomically: true, encoding: .utf8)
        func run(_ list: String) async throws -> (Int32, String) {
            let process = Process()
            process.executableURL = Self.vem
            process.arguments = [
                "nats-config", "--clients", list, "--site", "s", "--site-config", siteINI, "--output",
                "\(scratch.path)/out.conf",
            ]
            let errors = Pipe()
            process.standardError = errors
            let status = try await runProcess(process)
            return (status, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        #expect(try await run("\(scratch.path)/good.txt").0 == 0)
        let (status, message) = try await run("\(scratch.path)/bad.txt")
        #expect(status != 0)
        #expect(message.contains("client 'vm3': group 'alice' is not a [group] of the site"))
    }

    @Test func aClientCannotPublishToAnotherClientsSubject() async throws {
        let site = try await NATSSite.start(nodes: 1, clients: [.init(name: "host01"), .init(name: "host02")])
        defer { Task { await site.stop() } }
        let subjects = try NATSSubjects(site: NATSSite.site)
        let errors = Mutex<[NATSError]>([])
        let attacker = try await NATSConnection.connect(
            site.options(user: "host01"),
            handlers: NATSConnectionHandlers(error: { error in errors.withLock { $0.append(error) } }))
        let victim = try await NATSConnection.connect(site.options(user: "host02"))
        let manager = try await NATSConnection.connect(site.options(user: NATSAccountsConfig.managerUser))
        let received = Mutex<[String]>([])
        try victim.subscribe(subjects.client("host02")) { view in
            received.withLock { $0.append(String(decoding: view.payload, as: UTF8.self)) }
        }
        let managerGot = Mutex<[String]>([])
        try manager.subscribe(subjects.managerWildcard) { view in managerGot.withLock { $0.append(view.subject) } }
        try await victim.flush()
        try await manager.flush()

        try attacker.publish(subjects.client("host02"), Array("evil command".utf8))
        try await attacker.flush()
        try await waitUntil("permissions violation") { errors.withLock { $0.contains { $0.code == .permissionViolation } } }
        #expect(errors.withLock { $0.first?.message.contains("Permissions Violation for Publish") ?? false })
        // Impersonation: publishing on another Client's manager subject is refused as well.
        try attacker.publish(subjects.manager("host02"), Array("forged".utf8))
        try attacker.publish(subjects.manager("host01"), Array("own".utf8))
        try await attacker.flush()
        try await waitUntil("two violations") { errors.withLock { $0.count >= 2 } }

        try manager.publish(subjects.client("host02"), Array("marker".utf8))
        try await manager.flush()
        try await waitUntil("marker") { received.withLock { $0.contains("marker") } }
        try await waitUntil("own message") { managerGot.withLock { $0.contains(subjects.manager("host01")) } }
        #expect(received.withLock { $0 } == ["marker"], "host02 never receives host01's publish")
        #expect(managerGot.withLock { $0 } == [subjects.manager("host01")], "the forged publish never arrives")
        await attacker.close()
        await victim.close()
        await manager.close()
        await site.stop()
    }

    @Test func aSilentSessionIsDeclaredGoneWithinTwoHeartbeats() async throws {
        let site = try await NATSSite.start(nodes: 1, clients: [])
        defer { Task { await site.stop() } }
        let interval = Duration.seconds(1)
        // No system account: the peer's NATS connection stays open, so only the heartbeats can tell.
        let bus = try site.manager(heartbeat: interval, system: false)
        try await bus.start()
        let events = Recorder(bus.events)
        let peer = try await NATSConnection.connect(site.options(user: NATSAccountsConfig.managerUser))
        let hello = Message.hello(Hello(name: "mute", role: .dom0, host: "h", version: "1.0.0", incarnation: 5, token: "tok"))
        let sent = ContinuousClock.now
        try peer.publish(bus.subjects.manager("mute"), NATSEnvelope(session: 1, messages: [hello]).encoded().bytes)
        try await peer.flush()
        try await waitUntil("join") { events.all.contains { $0.joinName == "mute" } }
        try await waitUntil("heartbeat timeout") { events.all.contains { $0.disconnectName == "mute" } }
        let elapsed = ContinuousClock.now - sent
        #expect(events.all.contains(.disconnect(name: "mute", reason: "heartbeat timeout")))
        #expect(elapsed >= interval * 1.5, "not before 1.5 intervals of silence: \(elapsed)")
        // The promise is 2 intervals of the last message, and the bus's design detects it within 1.75 (timeout
        // 1.5, checked every quarter). That cannot be measured on the wall clock here: the check is a task on the
        // cooperative pool, which a loaded 2-core machine (the other suites, other builds) delays by seconds (the
        // hub's test failed its 250 ms allowance under such load). So a gross bound only: a check that never
        // fires, or counts from the wrong moment, still fails it.
        #expect(elapsed < interval * 10, "\(elapsed)")
        await peer.close()
        await bus.shutdown()
        await site.stop()
    }

    @Test func staleSessionsAndForgedNamesAreDropped() async throws {
        let site = try await NATSSite.start(nodes: 1, clients: [])
        defer { Task { await site.stop() } }
        let bus = try site.manager(system: false)
        try await bus.start()
        let events = Recorder(bus.events)
        // The test plays Client "x" with the Manager's user (allowed on every subject of the site).
        let peer = try await NATSConnection.connect(site.options(user: NATSAccountsConfig.managerUser))
        let toX = Mutex<[NATSEnvelope]>([])
        try peer.subscribe(bus.subjects.client("x")) { view in
            if let envelope = try? NATSEnvelope(decoding: view.payload) { toX.withLock { $0.append(envelope) } }
        }
        try await peer.flush()
        func send(_ session: UInt64, _ messages: [Message], as name: String = "x") async throws {
            try peer.publish(bus.subjects.manager(name), NATSEnvelope(session: session, messages: messages).encoded().bytes)
            try await peer.flush()
        }
        let hello = Message.hello(Hello(name: "x", role: .dom0, host: "h", version: "1.0.0", incarnation: 5, token: "tok"))
        try await send(100, [hello])
        try await waitUntil("join") { events.all.contains { $0.joinName == "x" } }
        try await waitUntil("welcome to session 100") {
            toX.withLock { $0.contains { $0.session == 100 && $0.messages.contains { if case .welcome = $0 { true } else { false } } } }
        }
        try await send(101, [hello])
        try await waitUntil("second join") { events.all.filter { $0.joinName == "x" }.count == 2 }
        #expect(events.all.contains(.join(ClientIdentity(hello: Hello(name: "x", role: .dom0, host: "h", version: "1.0.0", incarnation: 5, token: "")), resumed: true)))
        #expect(events.all.contains { $0.disconnectName == "x" }, "the old session ended")

        try await send(100, [.event(Event(kind: "stale"))])
        try await send(100, [hello])  // a late hello of the older session
        try await send(101, [.event(Event(kind: "fresh"))])
        try await waitUntil("fresh event") { events.all.contains(.message(from: "x", .event(Event(kind: "fresh")))) }
        #expect(!events.all.contains(.message(from: "x", .event(Event(kind: "stale")))))
        #expect(events.all.filter { $0.joinName == "x" }.count == 2, "no join for the stale hello")
        #expect(bus.counts.stale == 2)
        #expect(bus.members().map(\.name) == ["x"])

        // A hello naming another Client on x's subject is refused.
        let forged = Message.hello(Hello(name: "y", role: .dom0, host: "h", version: "1.0.0", incarnation: 1, token: "tok"))
        try await send(7, [forged])
        try await waitUntil("forged hello refused") {
            events.all.contains { if case .connectionRejected(_, let reason) = $0 { reason.hasPrefix("forbidden") } else { false } }
        }
        #expect(bus.members().map(\.name) == ["x"])
        await peer.close()
        await bus.shutdown()
        await site.stop()
    }
}

/// Runs a process to its end off the cooperative pool.
func runProcess(_ process: Process) async throws -> Int32 {
    try process.run()
    return await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            process.waitUntilExit()
            continuation.resume(returning: process.terminationStatus)
        }
    }
}
