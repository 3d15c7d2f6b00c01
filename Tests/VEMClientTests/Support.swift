import Foundation
import Logging
import Synchronization
import Testing
import VEMAgent
import VEMBus
import VEMConfig
import VEMProtocol

@testable import VEMClient
@testable import VEMClientCore
import VEMTestKit
import VEMCore

/// The fixture trees (`host`, `domu-cmdline`, …).
func fixture(_ name: String) throws -> URL {
    let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return url.appendingPathComponent(name)
}

/// A scratch directory for one test; remove it with `defer`.
func scratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vem-client-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Polls `condition` every 5 ms until it holds or `seconds` pass. The generous default only matters when a test
/// fails: the whole suite shares two cooperative threads, and CPU-bound tests elsewhere can stall them for seconds.
func eventually(
    _ what: String, within seconds: Double = 60, _ condition: @Sendable () async -> Bool
) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

/// Records what the Manager side of an in-memory bus sees.
final class ManagerLog: Sendable {
    let events = Mutex<[BusEvent]>([])

    /// Unsolicited property reports (request id 0), in arrival order, from one client.
    func pushes(from client: String) -> [PropertyReport] {
        events.withLock { events in
            events.compactMap { event in
                if case .message(let from, .property(let report)) = event, from == client, report.requestID == 0 {
                    return report
                }
                return nil
            }
        }
    }

    func contains(_ predicate: (BusEvent) -> Bool) -> Bool { events.withLock { $0.contains(where: predicate) } }
}

/// A Client service on an in-memory bus, with a fixture root copied to a scratch directory, a manual clock
/// and configuration files written in the scratch directory.
final class Harness: Sendable {
    let bus = InMemoryBus()
    let clock = ManualTimeline(unixOrigin: 1_700_000_000)
    let directory: URL
    let root: URL
    let service: ClientService
    let log = ManagerLog()
    private let tasks = Mutex<[Task<Void, Never>]>([])
    let runResult = Mutex<Result<Void, ClientError>?>(nil)

    var name: String { service.identity.name }

    /// - Parameters:
    ///   - config: The agent.ini text.
    ///   - fixtureName: The fixture tree copied as the root.
    ///   - tune: Changes to the service's configuration.
    init(
        config: String, fixtureName: String = "host", tune: (inout ClientService.Configuration) -> Void = { _ in }
    ) throws {
        directory = try scratchDirectory()
        root = directory.appendingPathComponent("root")
        try FileManager.default.copyItem(at: try fixture(fixtureName), to: root)
        let path = directory.appendingPathComponent("agent.ini").path
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let loader = ClientConfigurationLoader(paths: [path])
        let loaded = try loader.load()
        var options = ClientService.Configuration()
        options.root = root.path
        options.jitter = 0
        options.killGrace = .milliseconds(200)
        tune(&options)
        let identity = try ClientIdentityResolver(root: root.path, hostName: "node01").resolve(
            loaded.configuration.settings, version: ClientService.version, incarnation: 42)
        let bus = bus
        service = try ClientService(
            configuration: loaded.configuration, loader: loader, identity: identity, token: "", clock: clock,
            options: options,
            busFactory: { identity, token, _, handlers in
                bus.makeClient(identity: identity, token: token, handlers: handlers)
            })
    }

    var configPath: String { directory.appendingPathComponent("agent.ini").path }

    /// Starts the Manager-side recorder and the service; waits for the join.
    func start() async throws {
        let log = log
        let events = bus.events
        let service = service
        tasks.withLock {
            $0.append(Task { for await event in events { log.events.withLock { $0.append(event) } } })
            $0.append(
                Task { [self] in
                    do throws(ClientError) {
                        try await service.run()
                        self.runResult.withLock { $0 = .success(()) }
                    } catch {
                        self.runResult.withLock { $0 = .failure(error) }
                    }
                })
        }
        let name = name
        try await eventually("the join") {
            log.contains { if case .join(let id, _) = $0 { return id.name == name } else { return false } }
        }
    }

    /// Stops the service and the recorder, removes the scratch directory.
    func finish() async {
        service.stop(reason: "test over")
        let all = tasks.withLock { $0 }
        if all.count > 1 { await all[1].value }
        bus.shutdown()
        for task in all { task.cancel() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a command through the bus and returns its result.
    func command(_ name: String, _ arguments: [WireValue] = [], named: [NamedValue] = []) async throws
        -> CommandResult
    {
        let pending = try bus.submit(name, arguments: arguments.map { NamedValue("", $0) } + named, to: self.name)
        guard case .result(let result) = await pending.outcome() else {
            Issue.record("command \(name) has no result")
            throw CancellationError()
        }
        return result
    }

    /// A property round to this client.
    func ask(_ names: [String] = []) async throws -> PropertyReport {
        let round = await bus.collectProperties(names, from: .client(name), timeout: .seconds(60))
        return try #require(round.replies[name], "no property reply")
    }

    /// Waits until the Reader has cached a property.
    func waitForSample(_ property: String) async throws {
        let service = service
        try await eventually("a sample of \(property)") { await service.lastSample(of: property) != nil }
    }

    /// Rewrites a file under the root.
    func write(_ path: String, _ text: String) throws {
        try text.write(toFile: root.path + path, atomically: true, encoding: .utf8)
    }
}

/// The value of a reading, if it is one.
func value(_ report: PropertyReport, _ name: String) -> WireValue? {
    guard let reading = report.readings.first(where: { $0.name == name }), case .value(let v) = reading.outcome
    else { return nil }
    return v
}

/// The error of a reading, if it is one.
func errorText(_ report: PropertyReport, _ name: String) -> String? {
    guard let reading = report.readings.first(where: { $0.name == name }), case .error(let e) = reading.outcome
    else { return nil }
    return e
}

/// A meminfo text with the given MemFree.
func meminfo(memFree: Int) -> String {
    "MemTotal:       24683652 kB\nMemFree:        \(memFree) kB\nMemAvailable:   24264152 kB\n"
}

/// Runs `body` with a started harness and always stops it.
func withHarness(
    config: String, fixtureName: String = "host", tune: (inout ClientService.Configuration) -> Void = { _ in },
    _ body: (Harness) async throws -> Void
) async throws {
    let h = try Harness(config: config, fixtureName: fixtureName, tune: tune)
    do {
        try await h.start()
        try await body(h)
    } catch {
        await h.finish()
        throw error
    }
    await h.finish()
}
