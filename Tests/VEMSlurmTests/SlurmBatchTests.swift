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

    @Test func realExecutorReportsAMissingBinaryAndATimeout() async throws {
        let missing = ProcessSlurmExecutor(binDirectory: "/nonexistent")
        let e1 = await #expect(throws: SlurmError.self) { try await missing.run(.queue, timeout: .seconds(1)) }
        #expect(e1?.code == .spawnFailed)
        // A "binary directory" whose `sinfo` hangs: /usr/bin/sleep stands in via a private directory of links.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vem-slurm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Written with O_CLOEXEC: a program spawned meanwhile by a concurrent test must not inherit the
        // write descriptor, or exec would fail with ETXTBSY.
        let script = dir.appendingPathComponent("sinfo").path
        let fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        try #require(fd >= 0)
        let text = Array("#!/bin/sh\nexec /bin/sleep 30\n".utf8)
        #expect(write(fd, text, text.count) == text.count)
        close(fd)
        let hanging = ProcessSlurmExecutor(binDirectory: dir.path)
        let start = ContinuousClock.now
        let e2 = await #expect(throws: SlurmError.self) { try await hanging.run(.nodes, timeout: .milliseconds(300)) }
        #expect(e2?.code == .timeout)
        #expect(e2?.message.contains("sinfo did not answer within 0.3 s") == true)
        // Stopped at its timeout, not run to its 30 s end (the margin is for a loaded machine).
        #expect(ContinuousClock.now - start < .seconds(25))
    }

    @Test func defaultAddressResolution() throws {
        #expect(try SlurmBatch.resolveAddress(of: "localhost") == "127.0.0.1")
        let error = #expect(throws: SlurmError.self) { try SlurmBatch.resolveAddress(of: "bad name") }
        #expect(error?.code == .invalidArgument)
    }
}
