import Foundation
import Testing

@testable import VEMAgent

@Suite struct ProcessRunnerTests {
    func runner(timeout: Duration = .seconds(10), outputLimit: Int = 65536, killGrace: Duration = .seconds(1))
        -> ProcessRunner
    {
        var c = ProcessRunner.Configuration(timeout: timeout, outputLimit: outputLimit)
        c.killGrace = killGrace
        return ProcessRunner(configuration: c)
    }

    @Test func success() async throws {
        let r = try await runner().run("/bin/echo", arguments: ["hello", "world"])
        #expect(r.termination == .exited(0))
        #expect(r.outputText == "hello world\n")
        #expect(r.succeeded)
        #expect(!r.outputTruncated && !r.timedOut)
        #expect(processIsGone(r.pid))
    }

    @Test func nonZeroExitKeepsStandardError() async throws {
        let r = try await runner().run("/bin/sh", arguments: ["-c", "echo partial; echo oops >&2; exit 3"])
        #expect(r.termination == .exited(3))
        #expect(r.outputText == "partial\n")
        #expect(r.errorText == "oops\n")
        #expect(!r.succeeded)
    }

    @Test func standardInputIsEmptyAndEnvironmentIsFixed() async throws {
        #expect(try await runner().run("/bin/cat").outputText == "")
        let env = try await runner().run("/usr/bin/env").outputText
        #expect(Set(env.split(separator: "\n")) == ["LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"])
    }

    @Test func aHangingProgramIsKilledAtItsTimeout() async throws {
        let started = ContinuousClock.now
        let r = try await runner(timeout: .milliseconds(300)).run("/bin/sleep", arguments: ["30"])
        #expect(r.timedOut)
        #expect(r.termination == .signaled(SIGTERM))
        // Stopped, not run to its 30 s end (the margin is for a loaded machine, not a bound on the timeout).
        #expect(ContinuousClock.now - started < .seconds(25))
        #expect(processIsGone(r.pid))
    }

    @Test func theWholeProcessGroupIsKilled() async throws {
        let r = try await runner(timeout: .milliseconds(300))
            .run("/bin/sh", arguments: ["-c", "/bin/sleep 30 & echo $!; wait"])
        #expect(r.timedOut)
        let grandchild = try #require(Int32(r.outputText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(processIsGone(r.pid))
        #expect(await grandchildIsGone(grandchild))
    }

    @Test func processesLeftInTheGroupAreKilledWhenTheProgramExits() async throws {
        let r = try await runner().run("/bin/sh", arguments: ["-c", "/bin/sleep 30 & echo $!"])
        #expect(r.termination == .exited(0))
        #expect(!r.timedOut)
        let leftover = try #require(Int32(r.outputText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await grandchildIsGone(leftover))
        #expect(r.duration < .seconds(25), "the program's exit ends the run; the leftover's 30 s are not waited for")
    }

    @Test func aProgramIgnoringSIGTERMGetsSIGKILL() async throws {
        let r = try await runner(timeout: .milliseconds(300), killGrace: .milliseconds(200))
            .run("/bin/sh", arguments: ["-c", "trap '' TERM; /bin/sleep 30"])
        #expect(r.timedOut)
        #expect(r.termination == .signaled(SIGKILL))
        #expect(processIsGone(r.pid))
    }

    @Test func outputIsCappedAndTheRestDrained() async throws {
        let r = try await runner(outputLimit: 1000).run("/usr/bin/head", arguments: ["-c", "200000", "/dev/zero"])
        #expect(r.termination == .exited(0))
        #expect(r.standardOutput.count == 1000)
        #expect(r.outputTruncated)
    }

    @Test func spawnFailures() async throws {
        await #expect(throws: AgentError.self) { try await runner().run("/no/such/program") }
        await #expect(throws: AgentError.self) { try await runner().run("sleep", arguments: ["1"]) }
    }

    @Test func cancellingTheCallerKillsTheProgram() async throws {
        let (spawned, continuation) = AsyncStream.makeStream(of: Int32.self)
        let task = Task {
            try await runner().run("/bin/sleep", arguments: ["30"], onSpawn: { continuation.yield($0) })
        }
        var iterator = spawned.makeAsyncIterator()
        let pid = try #require(await iterator.next())
        task.cancel()
        let r = try await task.value
        #expect(r.pid == pid)
        #expect(r.cancelled && !r.timedOut)
        #expect(processIsGone(pid))
    }
}

@Suite struct ExecPropertyPluginTests {
    let r = PluginRegistry.builtin()

    @Test func parsesStandardOutputByReturnType() async {
        #expect(await read(r, "exec", ["/bin/echo", "42"], as: .int) == .success(.int(42)))
        #expect(await read(r, "exec", ["/bin/echo", "  hello "], as: .str) == .success(.string("  hello ")))
        #expect(
            await read(r, "exec", ["/bin/echo", #"{"n": [1, 2]}"#], as: .json)
                == .success(.object(["n": .array([.int(1), .int(2)])])))
    }

    @Test func garbageOutputVersusIntIsAnErrorValue() async {
        let result = await read(r, "exec", ["/bin/echo", "not a number"], as: .int)
        #expect(result.code == .conversion)
    }

    @Test func failuresAreErrorValues() async {
        let failed = await read(r, "exec", ["/bin/sh", "-c", "echo bad input >&2; exit 2"], as: .str)
        #expect(failed.code == .programFailed)
        #expect(failed.error?.cause == "bad input")
        #expect(await read(r, "exec", ["/bin/sleep", "30"], as: .int, timeout: .milliseconds(300)).code == .timeout)
        #expect(await read(r, "exec", ["/no/such/program"], as: .int).code == .spawnFailed)
        #expect(await read(r, "exec", [], as: .int).code == .badParameters)
        let huge = await read(r, "exec", ["/usr/bin/head", "-c", "100000", "/dev/zero"], as: .str)
        #expect(huge.code == .malformedInput)
    }
}
