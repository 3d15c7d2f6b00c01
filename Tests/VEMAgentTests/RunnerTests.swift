import Foundation
import Testing
import VEMCore

@testable import VEMAgent

/// The order in which a plugin ran commands.
actor RunLog {
    private(set) var sequences: [UInt64] = []
    func append(_ s: UInt64) { sequences.append(s) }
}

/// A door that a plugin waits at until the test opens it.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func open() {
        isOpen = true
        for w in waiters { w.resume() }
        waiters = []
    }
}

/// `record`: logs its sequence number; with the argument `gate` it first waits at the gate.
struct RecordPlugin: CommandPlugin {
    let name = "record"
    let log: RunLog
    let gate: Gate
    func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        if request.arguments.first == "gate" { await gate.wait() }
        await log.append(request.sequence)
        return PluginOutcome(status: .ok, output: "ran \(request.sequence)")
    }
}

/// `stuck`: never finishes by itself (but honours cancellation).
struct StuckPlugin: CommandPlugin {
    let name = "stuck"
    func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        try? await Task.sleep(for: .seconds(3600))
        return PluginOutcome(status: .ok)
    }
}

/// `big`: prints `count` copies of `text`.
struct BigPlugin: CommandPlugin {
    let name = "big"
    func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        PluginOutcome(status: .ok, output: String(repeating: request.arguments.first ?? "x", count: 70_000))
    }
}

struct Harness {
    let log = RunLog()
    let gate = Gate()
    let runner: Runner

    init(
        allow commands: Set<String> = [
            "record", "stuck", "big", "exec", "reload", "shutdown", "get_property", "ghost",
        ],
        programs: Set<String> = ["/bin/echo", "/bin/sleep", "/bin/sh"], memory: Int = 256, reader: Reader? = nil
    ) throws {
        let allowlist = Allowlist(commands: commands, programs: programs)
        var registry = PluginRegistry()
        try registry.registerCommand(RecordPlugin(log: log, gate: gate))
        try registry.registerCommand(StuckPlugin())
        try registry.registerCommand(BigPlugin())
        let reader = try reader ?? Reader(definitions: [], registry: registry, clock: ManualTimeline())
        try registry.registerBuiltinCommands(allowlist: allowlist, reader: reader)
        var configuration = Runner.Configuration()
        configuration.rememberedOutcomes = memory
        runner = Runner(
            registry: registry, allowlist: allowlist, clock: ManualTimeline(), configuration: configuration)
    }

    /// Waits (yielding, never sleeping) until the Runner has admitted exactly these waiting commands.
    /// Waits until the runner holds exactly `expected` back. Polls every millisecond (a `Task.yield()` loop kept
    /// one of the two cooperative threads busy); the 60 s limit is a hang guard, checked after one last look.
    func untilWaiting(_ expected: [UInt64]) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if await runner.waiting == expected { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        if await runner.waiting == expected { return }
        Issue.record("the runner never had \(expected) waiting; has \(await runner.waiting)")
    }
}

func command(_ seq: UInt64, _ name: String = "record", _ arguments: [String] = [], timeout: Duration? = nil)
    -> CommandRequest
{
    CommandRequest(sequence: seq, name: name, arguments: arguments, timeout: timeout)
}

@Suite struct CommandSequencerTests {
    @Test func runsInOrderEachOnce() {
        var s = CommandSequencer()
        #expect(s.admit(3) == .accepted)
        #expect(s.admit(2) == .accepted)
        #expect(!s.isTurn(3) && !s.isTurn(2))
        #expect(s.admit(2) == .pending)
        #expect(s.admit(1) == .accepted)
        #expect(s.isTurn(1))
        let early = s.complete(2, PluginOutcome(status: .ok))
        #expect(!early)
        let inTurn = s.complete(1, PluginOutcome(status: .ok, output: "one"))
        #expect(inTurn)
        #expect(s.isTurn(2))
        #expect(s.admit(1) == .completed(PluginOutcome(status: .ok, output: "one")))
        #expect(s.waiting == [3])
    }

    @Test func forgetsOldOutcomesAndRefusesStaleNumbers() {
        var s = CommandSequencer(first: 10, memory: 2)
        #expect(s.admit(9) == .forgotten)
        for seq in UInt64(10)...12 {
            #expect(s.admit(seq) == .accepted)
            s.complete(seq, PluginOutcome(status: .ok))
        }
        #expect(s.admit(10) == .forgotten)
        #expect(s.admit(11) == .completed(PluginOutcome(status: .ok)))
        #expect(s.next == 13)
    }
}

@Suite struct RunnerTests {
    @Test func outOfOrderArrivalsRunInSequenceOrder() async throws {
        let h = try Harness()
        async let three = h.runner.execute(command(3))
        async let two = h.runner.execute(command(2))
        try await h.untilWaiting([2, 3])
        #expect(await h.log.sequences.isEmpty)
        let one = await h.runner.execute(command(1))
        #expect(one.output == "ran 1")
        #expect(await [two.output, three.output] == ["ran 2", "ran 3"])
        #expect(await h.log.sequences == [1, 2, 3])
        #expect(await h.runner.nextSequence == 4)
    }

    @Test func aDuplicateRunsOnce() async throws {
        let h = try Harness()
        let first = await h.runner.execute(command(1))
        let again = await h.runner.execute(command(1))
        #expect(first == again)
        // A duplicate of a command still waiting gets the same outcome without running it twice.
        async let gated = h.runner.execute(command(2, "record", ["gate"]))
        async let three = h.runner.execute(command(3))
        try await h.untilWaiting([3])
        async let duplicate = h.runner.execute(command(3))
        await h.gate.open()
        #expect(await gated.output == "ran 2")
        #expect(await three == duplicate)
        #expect(await h.log.sequences == [1, 2, 3])
    }

    @Test func forgottenDuplicatesAreRefused() async throws {
        let h = try Harness(memory: 1)
        _ = await h.runner.execute(command(1))
        _ = await h.runner.execute(command(2))
        let stale = await h.runner.execute(command(1))
        #expect(stale.status == .refused)
        #expect(await h.log.sequences == [1, 2])
    }

    @Test func commandsOutsideTheAllowlistAreRefusedAndConsumeTheirNumber() async throws {
        let scratch = try ScratchRoot()
        defer { scratch.remove() }
        let h = try Harness(allow: ["record", "exec"], programs: ["/bin/echo"])
        let notAllowed = await h.runner.execute(command(1, "shutdown"))
        #expect(notAllowed.status == .refused)
        #expect(notAllowed.error == "command 'shutdown' is not in this client's allowlist")
        #expect(notAllowed.directive == nil)
        let marker = scratch.path + "/touched"
        let program = await h.runner.execute(command(2, "exec", ["/usr/bin/touch", marker]))
        #expect(program.status == .refused)
        #expect(!FileManager.default.fileExists(atPath: marker))
        for sneaky in ["/bin/../usr/bin/touch", "//bin/echo", "echo", "/bin/./echo"] {
            let r = await h.runner.execute(command(h.runner.nextSequence, "exec", [sneaky, "x"]))
            #expect(r.status == .refused, "\(sneaky)")
        }
        #expect(await h.runner.execute(command(await h.runner.nextSequence, "exec")).status == .refused)
        let ok = await h.runner.execute(command(await h.runner.nextSequence, "exec", ["/bin/echo", "hi"]))
        #expect(ok.status == .ok && ok.output == "hi\n" && ok.exitCode == 0)
    }

    @Test func allowlistedButUnknownCommandsAreRefused() async throws {
        let outcome = try await Harness().runner.execute(command(1, "ghost"))
        #expect(outcome.status == .refused)
        #expect(outcome.error?.contains("no command plugin named 'ghost'") == true)
    }

    @Test func aCommandPastItsTimeoutIsStoppedAndTheNextOneRuns() async throws {
        let h = try Harness()
        let stuck = await h.runner.execute(command(1, "stuck", timeout: .milliseconds(100)))
        #expect(stuck.status == .timeout)
        #expect(await h.runner.execute(command(2)).status == .ok)
    }

    @Test func execReportsExitCodesAndTimeouts() async throws {
        let h = try Harness()
        let failed = await h.runner.execute(command(1, "exec", ["/bin/sh", "-c", "echo out; echo why >&2; exit 4"]))
        #expect(failed.status == .failed && failed.exitCode == 4 && failed.output == "out\n")
        #expect(failed.error == "/bin/sh exited with status 4: why")
        let hung = await h.runner.execute(command(2, "exec", ["/bin/sleep", "30"], timeout: .milliseconds(300)))
        #expect(hung.status == .timeout)
        #expect(hung.error?.contains("process group was stopped") == true)
    }

    @Test func outputIsCappedAtACharacterBoundary() async throws {
        let h = try Harness()
        let ascii = await h.runner.execute(command(1, "big"))
        #expect(ascii.truncated && ascii.output.utf8.count == PluginOutcome.defaultOutputLimit)
        let wide = await h.runner.execute(command(2, "big", ["€"]))
        #expect(wide.truncated && wide.output.utf8.count <= PluginOutcome.defaultOutputLimit)
        #expect(wide.output.allSatisfy { $0 == "€" })
        let small = await h.runner.execute(command(3))
        #expect(!small.truncated)
    }

    @Test func reloadAndShutdownAreDirectives() async throws {
        let h = try Harness()
        #expect(await h.runner.execute(command(1, "reload")).directive == .reload)
        let shutdown = await h.runner.execute(command(2, "shutdown"))
        #expect(shutdown.status == .ok && shutdown.directive == .shutdown)
    }

    @Test func getPropertyRefreshesAndPublishes() async throws {
        let reader = try Reader(
            definitions: [definition("ram_free", ticks: 60), definition("load5", ticks: 60, plugin: "load", ["5"])],
            registry: try registry("proc-basic"), clock: ManualTimeline(start: 9), jitter: 0)
        let h = try Harness(reader: reader)
        let outcome = await h.runner.execute(command(1, "get_property", ["ram_free"]))
        #expect(outcome.status == .ok)
        #expect(outcome.output == #"{"ram_free":23329220}"#)
        #expect(
            outcome.directive
                == .publish([PropertySample(name: "ram_free", result: .success(.int(23_329_220)), timestamp: 9)]))
        let partly = await h.runner.execute(command(2, "get_property", ["load5", "swap"]))
        #expect(partly.status == .failed)
        #expect(partly.error == "no property named 'swap' on this client")
        guard case .publish(let samples) = partly.directive else {
            Issue.record("no publish directive")
            return
        }
        #expect(samples.map(\.name) == ["load5"])
    }
}
