import Foundation
import VEMBatch
import VEMBus
import VEMPolicy
import VEMPool
import VEMProtocol

/// The Manager side of the in-process demo: over a ``VEMBus/ManagerBus`` it asks the batch Client and the
/// Dom0 Clients for their state by command (`replay.status`, `host.status`), runs ``VEMPool/Reconciler``'s
/// rebalancing step, sends the resulting operations as commands to the right Clients, and feeds their outcomes
/// and the DomU Clients' joins back to the reconciler. A **Shell** around the pure reconciler.
public actor DemoManager {
    /// The name of the batch Client.
    public static let batchClient = "batch"

    let bus: any ManagerBus
    let hostNames: [String]
    let planner: Planner
    let mapping: PoolCommandMapping
    let now: @Sendable () -> Int
    let completions: AsyncStream<(PoolOperation, PendingCommand?)>.Continuation
    /// Outcomes still to await, for ``run()``.
    let pending: AsyncStream<(PoolOperation, PendingCommand?)>
    /// The reconciler (inventory, decisions, counters).
    public private(set) var reconciler: Reconciler
    /// The last batch snapshot and hosts the Manager saw.
    public private(set) var lastBatch = BatchSnapshot(time: 0, groups: [])
    /// The hosts as last reported.
    public private(set) var lastHosts: [HostState] = []
    /// Planner steps run.
    public private(set) var steps = 0
    /// Errors met asking for the state (a Client not joined yet, a malformed reply).
    public private(set) var stateErrors = 0

    /// Creates the Manager side.
    public init(
        bus: any ManagerBus, groups: [PoolGroup], hostNames: [String], policy: PolicyConfiguration,
        migrationURIs: [String: String]? = nil, now: @escaping @Sendable () -> Int
    ) throws {
        self.bus = bus
        self.hostNames = hostNames
        planner = Planner(configuration: policy)
        mapping = PoolCommandMapping(
            batchPrefix: "replay",
            migrationURIs: migrationURIs
                ?? Dictionary(uniqueKeysWithValues: hostNames.map { ($0, StandInHosts.uri(of: $0)) }))
        self.now = now
        reconciler = try Reconciler(groups: groups)
        (pending, completions) = AsyncStream.makeStream()
    }

    /// Runs until cancelled: consumes the bus's membership events and the outcomes of the commands sent.
    public func run() async {
        let events = bus.events
        let pending = pending
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events {
                    if case .join(let identity, _) = event, identity.role == .domU, let vm = identity.vmID {
                        await self.joined(vm)
                    }
                }
            }
            group.addTask {
                await withTaskGroup(of: Void.self) { outcomes in
                    for await (op, command) in pending {
                        outcomes.addTask {
                            var outcome: VEMBus.CommandOutcome?
                            if let command { outcome = await Self.outcome(of: command) }
                            await self.settle(op, outcome)
                        }
                    }
                }
            }
            await group.waitForAll()
        }
    }

    /// Ends ``run()`` once the commands sent have their outcomes (and the bus's events end).
    public func finish() { completions.finish() }

    /// One rebalancing step: the batch's and hosts' state by command, then the plan, then the operations.
    public func step() async {
        guard let batch = await batchState(), let hosts = await hostStates() else {
            stateErrors += 1
            return
        }
        lastBatch = batch
        lastHosts = hosts
        do {
            let result = try reconciler.rebalance(batch: batch, hosts: hosts, now: batch.time, planner: planner)
            steps += 1
            dispatch(result.operations)
        } catch {
            stateErrors += 1
        }
    }

    func batchState() async -> BatchSnapshot? {
        guard let text = await ask("replay.status", of: Self.batchClient) else { return nil }
        return try? JSONDecoder().decode(BatchSnapshot.self, from: Data(text.utf8))
    }

    struct HostReport: Decodable {
        var cpus: Int
        var memory_mib: Int
        var free_cpus: Int
        var free_memory_mib: Int
    }

    /// Every host's state, asked of the Dom0 Clients at once; `nil` when one does not answer.
    func hostStates() async -> [HostState]? {
        let replies = await withTaskGroup(of: (String, String?).self) { group in
            for name in hostNames { group.addTask { (name, await self.ask("host.status", of: name)) } }
            var replies: [String: String?] = [:]
            for await (name, text) in group { replies[name] = text }
            return replies
        }
        var states: [HostState] = []
        for name in hostNames {
            guard let text = replies[name] ?? nil,
                let r = try? JSONDecoder().decode(HostReport.self, from: Data(text.utf8))
            else { return nil }
            states.append(
                HostState(
                    name: name, cpus: r.cpus, memoryMiB: r.memory_mib, freeCPUs: r.free_cpus,
                    freeMemoryMiB: r.free_memory_mib))
        }
        return states
    }

    /// A command's output, or `nil` when it could not be sent or failed.
    nonisolated func ask(_ command: String, of client: String) async -> String? {
        guard let p = try? bus.submit(command, arguments: [], to: client),
            case .result(let r) = await Self.outcome(of: p), r.status == .ok
        else { return nil }
        return r.output
    }

    /// How long the Manager side waits for a command's outcome before calling it failed.
    static let outcomeTimeout: Duration = .seconds(10)

    /// The command's outcome, or `nil` when none came within ``outcomeTimeout`` or the task was cancelled.
    /// (`PendingCommand.outcome()` cannot be cancelled, so the outcome is polled: a shutdown never waits on it.)
    static func outcome(of command: PendingCommand) async -> VEMBus.CommandOutcome? {
        let deadline = ContinuousClock.now + outcomeTimeout
        var pause = Duration.microseconds(200)
        while ContinuousClock.now < deadline {
            if let outcome = command.currentOutcome { return outcome }
            do { try await Task.sleep(for: pause) } catch { return nil }
            pause = min(pause * 2, .milliseconds(10))
        }
        return command.currentOutcome
    }

    func dispatch(_ operations: [PoolOperation]) {
        for op in operations {
            let command = mapping.command(for: op)
            let client =
                switch command.target {
                case .host(let h): h
                case .batch: Self.batchClient
                }
            let sent = try? bus.submit(
                command.name, arguments: command.arguments.map { NamedValue("", .string($0)) }, to: client)
            completions.yield((op, sent))
        }
    }

    func settle(_ op: PoolOperation, _ outcome: VEMBus.CommandOutcome?) {
        let t = now()
        switch outcome {
        case .result(let r) where r.status == .ok:
            dispatch(reconciler.onSucceeded(op.id, now: t))
        case .result(let r):
            dispatch(reconciler.onFailed(op.id, message: r.error ?? "\(r.status)", now: t))
        case .unknown:
            dispatch(reconciler.onFailed(op.id, message: "outcome unknown: the Client went away", now: t))
        case .cancelled:
            dispatch(reconciler.onFailed(op.id, message: "not sent", now: t))
        case nil:
            dispatch(reconciler.onFailed(op.id, message: "no outcome (not sent, or none within 10 s)", now: t))
        }
    }

    func joined(_ vm: String) {
        dispatch(reconciler.onClientJoined(vm, now: now()))
    }

    /// The view of the pool for the live table.
    public var view: PoolView { PoolView(reconciler: reconciler, batch: lastBatch) }
}
