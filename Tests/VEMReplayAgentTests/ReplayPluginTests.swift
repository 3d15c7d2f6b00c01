import Foundation
import Synchronization
import Testing
import VEMAgent
import VEMBatch
import VEMCore
import VEMReplayAgent

/// A wall clock moved by hand.
final class HandClock: Sendable {
    private let seconds = Mutex(0.0)
    func set(_ value: Double) { seconds.withLock { $0 = value } }
    var read: @Sendable () -> Double { { [self] in seconds.withLock { $0 } } }
}

@Suite struct ReplayPluginTests {
    /// Two jobs of group a at t=0 and t=100 (60 s each), replayed 10× faster than the wall clock.
    func make() throws -> (LiveReplay, HandClock) {
        let jobs = [
            ReplayJob(jobNumber: 1, group: "a", submitTime: 0, runTime: 60),
            ReplayJob(jobNumber: 2, group: "a", submitTime: 100, runTime: 60),
        ]
        let clock = HandClock()
        let replay = LiveReplay(
            batch: try ReplayBatch(jobs: jobs, configuration: .init(compression: 10)), elapsed: clock.read)
        return (replay, clock)
    }

    func run(_ replay: LiveReplay, _ action: ReplayNodeCommand.Action, _ args: [String]) async -> PluginOutcome {
        await ReplayNodeCommand(action, replay: replay).run(
            CommandRequest(sequence: 1, name: "replay.\(action.rawValue)", arguments: args),
            context: CommandContext(now: 0, timeout: .seconds(5)))
    }

    @Test func theReplayFollowsTheWallClockCompressed() throws {
        let (replay, clock) = try make()
        #expect(replay.now == 0)
        #expect(replay.snapshot()[group: "a"]?.pendingJobs == 1)
        clock.set(10.5)  // 105 simulated seconds
        #expect(replay.now == 105)
        #expect(replay.snapshot()[group: "a"]?.pendingJobs == 2)
        #expect(replay.snapshot()[group: "a"]?.longestWait == 105)
    }

    @Test func nodesAreRegisteredDrainedResumedAndRemovedByCommands() async throws {
        let (replay, clock) = try make()
        let registered = await run(replay, .register, ["a-vm-1", "a", "1", "2048"])
        #expect(registered.status == .ok)
        #expect(replay.snapshot()[group: "a"]?.runningJobs == 1)  // the waiting job starts at once
        #expect(await run(replay, .drain, ["a-vm-1", "surplus", "VM"]).status == .ok)
        #expect(replay.snapshot()[group: "a"]?.nodes.first?.state == .draining)
        // Still running its job: the batch system refuses to forget it.
        let busy = await run(replay, .remove, ["a-vm-1"])
        #expect(busy.status == .failed)
        #expect(busy.error?.contains("still runs") == true)
        #expect(await run(replay, .resume, ["a-vm-1"]).status == .ok)
        clock.set(7)  // 70 s: the job is done
        #expect(await run(replay, .drain, ["a-vm-1"]).status == .ok)
        #expect(replay.snapshot()[group: "a"]?.nodes.first?.state == .drained)
        #expect(await run(replay, .remove, ["a-vm-1"]).status == .ok)
        #expect(replay.snapshot()[group: "a"]?.nodes.isEmpty == true)
    }

    @Test func aDownedNodesJobIsRequeuedAtOnceAndTheNodeTakesNoNewOne() async throws {
        // What the Manager sends before it destroys a busy VM (a preemption), as Slurm's `State=DOWN`.
        let (replay, clock) = try make()
        #expect(await run(replay, .register, ["a-vm-1", "a", "1", "2048"]).status == .ok)
        #expect(replay.snapshot()[group: "a"]?.runningJobs == 1)
        #expect(await run(replay, .down, ["a-vm-1", "vem:", "a-vm-1", "preempted"]).status == .ok)
        #expect(replay.snapshot()[group: "a"]?.pendingJobs == 1)
        #expect(replay.snapshot()[group: "a"]?.runningJobs == 0)
        clock.set(10.5)  // 105 s: job 2 waits too, the node takes neither
        #expect(replay.snapshot()[group: "a"]?.pendingJobs == 2)
        #expect(replay.snapshot()[group: "a"]?.nodes.first?.state == .drained)
        #expect(await run(replay, .remove, ["a-vm-1"]).status == .ok)
        let unknown = await run(replay, .down, ["a-vm-1", "again"])
        #expect(unknown.status == .failed)
        #expect(unknown.error?.hasPrefix("not_found") == true, "\(unknown.error ?? "")")
    }

    @Test func badArgumentsAndUnknownNodesFailClearly() async throws {
        let (replay, _) = try make()
        let usage = await run(replay, .register, ["a-vm-1", "a", "many"])
        #expect(usage.status == .failed)
        #expect(usage.error?.contains("usage: replay.register node group cpus memory_mb") == true)
        let unknown = await run(replay, .remove, ["ghost"])
        #expect(unknown.status == .failed)
        #expect(unknown.error?.contains("ghost") == true)
        #expect(await run(replay, .register, ["a-vm-1", "a", "1", "0"]).status == .ok)
        let twice = await run(replay, .register, ["a-vm-1", "a", "1", "0"])
        #expect(twice.status == .failed)
        #expect(twice.error?.contains("already registered") == true)
    }

    @Test func theDemandPropertyIsABatchSnapshotAsADict() async throws {
        let (replay, _) = try make()
        let value = try await ReplayPlugins.demand(replay).read(
            parameters: [], context: PropertyContext(propertyName: "demand", now: 0))
        guard case .object(let fields) = value, case .array? = fields["groups"] else {
            Issue.record("replay.demand returned \(value)")
            return
        }
        let snapshot = try value.decode(BatchSnapshot.self)
        #expect(snapshot[group: "a"]?.pendingJobs == 1)
        #expect(
            ReplayPlugins.commands(replay).map(\.name).sorted()
                == ["replay.down", "replay.drain", "replay.register", "replay.remove", "replay.resume"])
    }
}
