import Foundation
import Testing
import VEMAgent
import VEMBatch

@testable import VEMSlurm

@Suite struct SlurmBatchTests {
    let mappings = [
        GroupMapping(group: "a", partition: "dynA", feature: "groupA"),
        GroupMapping(group: "b", partition: "dynB", feature: "groupB"),
        GroupMapping(group: "byaccount", account: "lhcb"),
    ]

    func batch(_ executor: FakeExecutor) throws -> SlurmBatch {
        SlurmBatch(
            groups: try SlurmGroups(mappings), executor: executor, addressOf: { _ in "10.77.9.2" },
            now: { fixtureNow })
    }

    @Test func snapshotReadsSqueueAndSinfo() async throws {
        let executor = try FakeExecutor.cluster()
        let b = try batch(executor)
        let snapshot = try await b.snapshot()
        #expect(snapshot.groups.map(\.group) == ["a", "b", "byaccount"])
        #expect(snapshot[group: "b"]?.pendingJobs == 1)
        #expect(Set(executor.commands) == [.queue, .nodes])
    }

    @Test func registerNeedsAMappedGroupWithAFeatureAndGoodSizes() async throws {
        let executor = try FakeExecutor.cluster { args in notFound("x") }
        let b = try batch(executor)
        for (registration, code) in [
            (NodeRegistration(name: "n1", group: "nope", cpus: 1, memoryMB: 1), BatchError.Code.invalidMapping),
            (NodeRegistration(name: "n1", group: "byaccount", cpus: 1, memoryMB: 1), .invalidMapping),
            (NodeRegistration(name: "n1", group: "a", cpus: 0, memoryMB: 1), .invalidArgument),
            (NodeRegistration(name: "n1", group: "a", cpus: 1, memoryMB: 0), .invalidArgument),
            (NodeRegistration(name: "n 1", group: "a", cpus: 1, memoryMB: 1), .invalidArgument),
        ] {
            let error = await #expect(throws: BatchError.self) { try await b.register(registration) }
            #expect(error?.code == code, "\(registration)")
        }
        #expect(executor.commands.isEmpty)
    }

    @Test func unknownAndBusyNodes() async throws {
        let executor = try FakeExecutor.cluster { args in
            switch args[0] {
            case "delete":
                return SlurmOutput(
                    status: 1,
                    standardError:
                        "scontrol: error: failed to delete nodes b1\ndelete_node nodename=b1: Requested nodes are busy\n"
                )
            default: return SlurmOutput(status: 1, standardError: "slurm_update error: Invalid node name specified\n")
            }
        }
        let b = try batch(executor)
        let busy = await #expect(throws: BatchError.self) { try await b.remove(node: "b1") }
        #expect(busy?.code == .invalidNodeState)
        #expect(busy?.message.contains("busy") == true)
        let unknown = await #expect(throws: BatchError.self) { try await b.drain(node: "zz", reason: "r") }
        #expect(unknown?.code == .unknownNode)
    }

    @Test func resumingANodeThatIsNotDrainedDoesNothing() async throws {
        let executor = try FakeExecutor.cluster { args in
            if args[0] == "update" {
                return SlurmOutput(status: 1, standardError: "slurm_update error: Invalid node state specified\n")
            }
            return SlurmOutput(
                status: 0, standardOutput: Data("NodeName=b1 Arch=x86_64 State=IDLE+DYNAMIC_NORM Weight=1".utf8))
        }
        let b = try batch(executor)
        try await b.resume(node: "b1")
        #expect(executor.commands.count == 2)
    }

    @Test func resumeThatSlurmRefusesForADrainedNodeIsAnError() async throws {
        let executor = try FakeExecutor.cluster { args in
            if args[0] == "update" {
                return SlurmOutput(status: 1, standardError: "slurm_update error: Invalid node state specified\n")
            }
            return SlurmOutput(status: 0, standardOutput: Data("NodeName=b1 State=IDLE+DRAIN Weight=1".utf8))
        }
        let b = try batch(executor)
        let error = await #expect(throws: BatchError.self) { try await b.resume(node: "b1") }
        #expect(error?.code == .invalidNodeState)
    }

    @Test func timeoutsAndControllerErrorsMeanUnavailable() async throws {
        let timeout = FakeExecutor { c in throw SlurmError(.timeout, "\(c.program) did not answer within 1 s") }
        var b = try batch(timeout)
        let e1 = await #expect(throws: BatchError.self) { try await b.snapshot() }
        #expect(e1?.code == .batchUnavailable)
        #expect((e1?.cause as? SlurmError)?.code == .timeout)
        let down = try FakeExecutor.cluster(squeue: "squeue-controller-down", sinfo: "sinfo-controller-down")
        b = try batch(down)
        let e2 = await #expect(throws: BatchError.self) { try await b.snapshot() }
        #expect(e2?.code == .batchUnavailable)
        let unreachable = try FakeExecutor.cluster { _ in
            SlurmOutput(
                status: 1, standardError: "slurm_update error: Unable to contact slurm controller (connect failure)\n")
        }
        b = try batch(unreachable)
        let e3 = await #expect(throws: BatchError.self) { try await b.drain(node: "b1", reason: "x") }
        #expect(e3?.code == .batchUnavailable)
        #expect(e3?.message.contains("slurmctld") == true)
    }

    @Test func malformedOutputIsReported() async throws {
        let executor = FakeExecutor { _ in SlurmOutput(status: 0, standardOutput: Data("garbage".utf8)) }
        let b = try batch(executor)
        let error = await #expect(throws: BatchError.self) { try await b.snapshot() }
        #expect(error?.code == .malformedOutput)
    }

    /// The bound is on what the executor controls: the stand-in `sinfo` (and a helper it leaves in its process
    /// group) would sleep for a day, so `run` returns only because the timeout stopped the group; it must
    /// return reaped, with the helper killed too. No wall-clock bound on the test's own scheduling (under load
    /// the cooperative pool can take seconds to resume it); the time limit catches an executor that waits.
    @Test(.timeLimit(.minutes(1))) func realExecutorReportsAMissingBinaryAndATimeout() async throws {
        let missing = ProcessSlurmExecutor(binDirectory: "/nonexistent")
        let e1 = await #expect(throws: SlurmError.self) { try await missing.run(.queue, timeout: .seconds(1)) }
        #expect(e1?.code == .spawnFailed)
        // A "binary directory" whose `sinfo` hangs: a script in a private directory.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vem-slurm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let leaderFile = dir.appendingPathComponent("leader").path
        let helperFile = dir.appendingPathComponent("helper").path
        // Written with O_CLOEXEC: a program spawned meanwhile by a concurrent test must not inherit the
        // write descriptor, or exec would fail with ETXTBSY.
        let script = dir.appendingPathComponent("sinfo").path
        let fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        try #require(fd >= 0)
        let text = Array(
            """
            #!/bin/sh
            /bin/sleep 86400 &
            echo $! > \(helperFile)
            echo $$ > \(leaderFile)
            exec /bin/sleep 86400

            """.utf8)
        #expect(write(fd, text, text.count) == text.count)
        close(fd)
        let hanging = ProcessSlurmExecutor(binDirectory: dir.path)
        // 3 s: ample for the shell to start its helper and write both pids (two built-in echos) under load.
        let e2 = await #expect(throws: SlurmError.self) { try await hanging.run(.nodes, timeout: .seconds(3)) }
        #expect(e2?.code == .timeout)
        #expect(e2?.message.contains("sinfo did not answer within 3 s") == true)
        // The leader was reaped before `run` returned: its pid is gone.
        let leader = try #require(pid_t(try String(contentsOfFile: leaderFile, encoding: .utf8).trimmed))
        #expect(kill(leader, 0) == -1 && errno == ESRCH)
        // The helper it left in its process group was killed with it (it is no child of ours: wait on a pidfd).
        let helper = try #require(pid_t(try String(contentsOfFile: helperFile, encoding: .utf8).trimmed))
        #expect(waitForExit(of: helper, timeoutMilliseconds: 30_000))
    }

    @Test func defaultAddressResolution() throws {
        #expect(try SlurmBatch.resolveAddress(of: "localhost") == "127.0.0.1")
        let error = #expect(throws: SlurmError.self) { try SlurmBatch.resolveAddress(of: "bad name") }
        #expect(error?.code == .invalidArgument)
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// Waits until a process that is not our child has terminated (a zombie counts), on a pidfd: true when it has
/// (or no longer exists), false at the timeout.
private func waitForExit(of pid: pid_t, timeoutMilliseconds: Int32) -> Bool {
    guard let symbol = dlsym(nil, "pidfd_open") else { return kill(pid, 0) == -1 && errno == ESRCH }
    let pidfdOpen = unsafeBitCast(symbol, to: (@convention(c) (pid_t, UInt32) -> Int32).self)
    let fd = pidfdOpen(pid, 0)
    if fd < 0 { return errno == ESRCH }
    defer { close(fd) }
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
        let ready = poll(&entry, 1, timeoutMilliseconds)
        if ready < 0 && errno == EINTR { continue }
        return ready == 1
    }
}
