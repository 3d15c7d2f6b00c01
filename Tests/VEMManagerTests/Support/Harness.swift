import Foundation
import Logging
import Synchronization
import Testing
import VEMBus
import VEMConfig
import VEMCore
import VEMManager
import VEMProtocol
import VEMSite
import VEMTestKit

/// The repository's `examples/` directory.
let examplesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")

/// Loads a site from INI text; fails the test with the diagnostics when it does not load.
func loadSite(_ text: String, name: String = "test.ini") throws -> Site {
    let result = Site.load([ConfigSource(name: name, bytes: Array(text.utf8))])
    guard let site = result.site else {
        Issue.record("site did not load: \(result.diagnostics.map(\.description).joined(separator: "\n"))")
        throw ManagerError(.configuration, "site did not load")
    }
    return site
}

/// The paper's example configuration, verbatim.
func paperConfiguration() throws -> String {
    try String(contentsOf: examplesDirectory.appendingPathComponent("paper.ini"), encoding: .utf8)
}

/// Polls `condition` until it holds or `seconds` of real time pass (then records an issue). Only for what a test's
/// own Clients do outside the Manager's clock and signals (a join, a leave, an acknowledgement); what follows from
/// a step of the clock is awaited with ``Harness/settle()``. The limit is a hang
/// guard, not a bound on the code under test: what the tests wait for are events (a journal row, a state change,
/// a pass of TriggerWatch), and the Manager's own deadlines run on the test's manual clock. It is generous, since
/// a loaded 2-core machine can take seconds to work through a flood in a debug build.
func waitUntil(
    _ what: String, seconds: Double = 60, sourceLocation: Testing.SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async rethrows {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try? await Task.sleep(for: .milliseconds(2))
    }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
}

/// A Manager on the in-memory bus with a manual clock, its services running while `body` runs. Tests step the
/// clock (``step(by:)``, ``advance(by:)``) and await what the Manager signals (``settle()``), never wall time;
/// their suites carry a time limit as the hang guard.
struct Harness {
    let bus: InMemoryBus
    let clock: ManualClock
    let manager: Manager
    let journal: Journal
    let recovery: Manager.RecoverySummary
    /// The fake Clients ``connect(_:)`` started, stopped when ``run(site:journal:faults:clock:logger:_:)`` ends.
    let fakes = RunningFakes()

    /// Runs a Manager over `site` for the duration of `body`; fake Clients given are connected first and
    /// stopped at the end.
    static func run(
        site: Site, journal: Journal? = nil, faults: InMemoryBus.Faults = .none, clock: ManualClock = ManualClock(start: 1_700_000_000),
        logger: Logger? = nil, plainBus: Bool = false, _ body: (Harness) async throws -> Void
    ) async throws {
        let journal = try journal ?? Journal(path: nil)
        var options = ManagerService.Options()
        (options.journal, options.clock) = (journal, clock)
        options.logger.logLevel = .critical
        if let logger { options.logger = logger }
        options.transport = { engine throws(ManagerError) in
            var engine = engine
            // A site with TLS files on the in-memory bus, which carries no certificates (`plainBus`).
            if plainBus { engine.admission.requiresCertificate = false }
            return ManagerBusEndpoint(bus: InMemoryBus(configuration: engine, faults: faults), description: "memory")
        }
        let service = try await ManagerService.start(site: site, options: options)
        guard let bus = service.endpoint.bus as? InMemoryBus else { throw ManagerError(.bus, "not the in-memory bus") }
        let (manager, recovery) = (service.manager, service.recovery)
        let harness = Harness(bus: bus, clock: clock, manager: manager, journal: journal, recovery: recovery)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in manager.services { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            do {
                try await body(harness)
            } catch {
                await harness.fakes.stop()
                throw error
            }
            await harness.fakes.stop()
        }
    }

    /// Starts fake Clients for the rest of the test (each connects at once; stopped when the harness ends, which
    /// says `bye`) and waits until the Manager shows each connected.
    func connect(_ clients: [any RunnableFake]) async {
        for fake in clients { fakes.start(fake.client) }
        for fake in clients { await waitForClient(fake.identity.name) }
    }

    /// Runs fake Clients while `body` runs (each connects at once; cancelled at the end, which says `bye`).
    func with(_ clients: [any RunnableFake], _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for fake in clients {
                let client = fake.client
                group.addTask { try await client.run() }
            }
            defer { group.cancelAll() }
            for fake in clients { await waitForClient(fake.identity.name) }
            try await body()
        }
    }

    /// Steps the test clock and returns once TriggerWatch has evaluated what was due by then (it records an issue
    /// when that was no pass at all: every caller steps to a tick). Event-driven: no wall time is read.
    func advance(by seconds: Double, sourceLocation: Testing.SourceLocation = #_sourceLocation) async {
        let before = manager.triggerWatch.passCount
        clock.advance(by: seconds)
        await manager.triggerWatch.caughtUp(to: clock.now())
        if manager.triggerWatch.passCount == before {
            Issue.record("no TriggerWatch pass at \(clock.now())", sourceLocation: sourceLocation)
        }
    }

    /// Steps the test clock, then waits until the Manager has done everything that follows from it: TriggerWatch's
    /// passes and the pool timer's ticks due by then, the Sender's jobs, the commands' outcomes, the replies to its
    /// property requests and the passes they cause (``ManagerActivity/quiet()``). Event-driven: no wall time is
    /// read.
    func step(by seconds: Double) async {
        clock.advance(by: seconds)
        await settle()
    }

    /// Waits until the Manager has done what is due by the clock's time and what follows from it (see
    /// ``step(by:)``).
    func settle() async {
        let now = clock.now()
        await manager.triggerWatch.caughtUp(to: now)
        await manager.poolTimer.caughtUp(to: now)
        await manager.activity.quiet()
    }

    /// Waits until the Manager's state shows `name` connected.
    func waitForClient(_ name: String) async {
        await waitUntil("client \(name) joined") {
            manager.state.snapshot(at: clock.now()).clients[name]?.connected == true
        }
    }

    /// The state now.
    var snapshot: StateSnapshot { manager.state.snapshot(at: clock.now()) }

    /// Stats of one trigger.
    func stats(_ name: String) -> TriggerStats? { manager.triggerWatch.triggerStats.first { $0.name == name } }
}

/// The fake Clients a harness runs for the rest of a test (``Harness/connect(_:)``).
final class RunningFakes: Sendable {
    private let tasks = Mutex<[Task<Void, any Error>]>([])

    /// Runs `client` until ``stop()``.
    func start(_ client: InMemoryClient) {
        tasks.withLock { $0.append(Task { try await client.run() }) }
    }

    /// Cancels every Client (each says `bye`) and waits until each has ended.
    func stop() async {
        let running = tasks.withLock { tasks in defer { tasks = [] }; return tasks }
        for task in running { task.cancel() }
        for task in running { _ = await task.result }
    }
}

/// A fake Client that runs on the harness's in-memory bus.
protocol RunnableFake: Sendable {
    var identity: ClientIdentity { get }
    var client: InMemoryClient { get }
}

extension FakeClient: RunnableFake {}
extension WireFakeClient: RunnableFake {}
