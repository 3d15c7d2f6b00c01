import Foundation
import Testing
import VEMAgent
import VEMBus
import VEMProtocol

@testable import VEMClient
@testable import VEMClientCore

@Suite("Client: the Runner on the in-memory bus")
struct CommandTests {
    static func config(_ extra: String = "", log: String = "/dev/null") -> String {
        """
        [client]
        name = node01
        allow = exec, reload, shutdown, append, echo-args
        exec_allow = /bin/echo, /bin/sh, /bin/sleep, /bin/ls

        [command:append]
        plugin = exec
        program = /bin/sh
        args = -c "echo defined >> \(log)"
        timeout = 5s

        [command:echo-args]
        plugin = exec
        program = /bin/echo
        args = a "b c"

        [command:not-allowed]
        plugin = exec
        program = /bin/echo
        args = never

        [ram_free]
        command = ram
        parameters = MemFree
        return_type = int
        ticks = 60
        \(extra)
        """
    }

    @Test("commands run strictly in submission order, each once, even when an early one is slow")
    func ordering() async throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("order.log").path
        try await withHarness(config: Self.config(log: file)) { h in
            var pending: [PendingCommand] = []
            for i in 1...6 {
                let script = i == 1 ? "sleep 0.3; echo \(i) >> \(file)" : "echo \(i) >> \(file)"
                pending.append(
                    try h.bus.submit(
                        "exec",
                        arguments: [
                            .init("", .string("/bin/sh")), .init("", .string("-c")), .init("", .string(script)),
                        ], to: h.name))
            }
            pending.append(try h.bus.submit("append", arguments: [], to: h.name))
            var statuses: [CommandResult.Status] = []
            for p in pending {
                if case .result(let r) = await p.outcome() { statuses.append(r.status) }
            }
            #expect(statuses == Array(repeating: .ok, count: 7))
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines == ["1", "2", "3", "4", "5", "6", "defined"])
        }
    }

    @Test("exec returns its output and exit status; a defined command runs its configured program")
    func execOutput() async throws {
        try await withHarness(config: Self.config()) { h in
            let hello = try await h.command("exec", [.string("/bin/echo"), .string("hello")])
            #expect(hello.status == .ok)
            #expect(hello.output == "hello\n")
            #expect(hello.exitCode == 0)
            let failing = try await h.command(
                "exec", [.string("/bin/sh"), .string("-c"), .string("echo oops >&2; exit 3")])
            #expect(failing.status == .failed)
            #expect(failing.exitCode == 3)
            #expect(failing.error?.contains("oops") == true)
            let defined = try await h.command("echo-args")
            #expect(defined.status == .ok)
            #expect(defined.output == "a b c\n")
            let timedOut = try await h.command(
                "exec", [.string("/bin/sleep"), .string("30")], named: [NamedValue("timeout", .float(0.3))])
            #expect(timedOut.status == .failed)
            #expect(timedOut.error?.hasPrefix("timeout") == true)
        }
    }

    @Test("an exec'd program inherits no descriptor beyond standard input, output and error")
    func noInheritedDescriptors() async throws {
        try await withHarness(config: Self.config()) { h in
            let leaky = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
            defer { close(leaky) }
            #expect(leaky > 2)
            let result = try await h.command("exec", [.string("/bin/ls"), .string("/proc/self/fd")])
            #expect(result.status == .ok)
            // ls itself opens one descriptor (3) to read the directory.
            let fds = Set(result.output.split(separator: "\n").compactMap { Int32($0) })
            #expect(fds.isSubset(of: [0, 1, 2, 3]), "inherited: \(fds.subtracting([0, 1, 2, 3]).sorted())")
            #expect(!fds.contains(leaky) || leaky == 3)
        }
    }

    @Test("anything outside the allowlist is refused with a clear result, and the next command still runs")
    func allowlistRefusal() async throws {
        try await withHarness(config: Self.config()) { h in
            let notListedProgram = try await h.command("exec", [.string("/bin/cat"), .string("/etc/passwd")])
            #expect(notListedProgram.status == .refused)
            #expect(notListedProgram.error?.contains("'/bin/cat' is not in this client's allowlist") == true)
            let sneaky = try await h.command("exec", [.string("/bin/../bin/echo"), .string("x")])
            #expect(sneaky.status == .refused)
            let notAllowed = try await h.command("not-allowed")
            #expect(notAllowed.status == .refused)
            #expect(notAllowed.error?.contains("'not-allowed' is not in this client's allowlist") == true)
            let unknown = try await h.command("format_disk")
            #expect(unknown.status == .refused)
            let withArguments = try await h.command("echo-args", [.string("--evil")])
            #expect(withArguments.status == .refused)
            #expect(withArguments.error?.contains("takes no arguments") == true)
            let badNamed = try await h.command(
                "exec", [.string("/bin/echo")], named: [NamedValue("user", .string("root"))])
            #expect(badNamed.status == .refused)
            #expect(badNamed.error?.contains("unknown named argument 'user'") == true)
            let ok = try await h.command("exec", [.string("/bin/echo"), .string("still here")])
            #expect(ok.output == "still here\n")
        }
    }

    @Test("get_property as a command reads now and publishes; unknown names fail")
    func getPropertyCommand() async throws {
        try await withHarness(config: Self.config()) { h in
            try h.write("/proc/meminfo", meminfo(memFree: 4242))
            let result = try await h.command("get_property", [.string("ram_free")])
            #expect(result.status == .ok)
            #expect(result.output == #"{"ram_free":4242}"#)
            try await eventually("the published value") {
                h.log.pushes(from: h.name).contains { value($0, "ram_free") == .int(4242) }
            }
            let unknown = try await h.command("get_property", [.string("nope")])
            #expect(unknown.status == .failed)
            #expect(unknown.error?.contains("'nope'") == true)
        }
    }

    @Test("reload: a broken file is refused and the old configuration stays; a good one takes effect")
    func reload() async throws {
        try await withHarness(config: Self.config()) { h in
            let good = try String(contentsOfFile: h.configPath, encoding: .utf8)
            try (good + "\n[load1]\ncommand = load\nticks = soon\n").write(
                toFile: h.configPath, atomically: true, encoding: .utf8)
            let refused = try await h.command("reload")
            #expect(refused.status == .failed)
            #expect(refused.error?.contains("agent.ini:") == true)
            #expect(refused.error?.contains("error: invalid value 'soon' for 'ticks'") == true)
            #expect(refused.error?.contains("previous configuration stays") == true)
            #expect(await h.service.reloadCount == 0)
            #expect(value(try await h.ask(["ram_free"]), "ram_free") == .int(23_329_220))
            // The Runner still works after a refused reload.
            #expect(try await h.command("exec", [.string("/bin/echo"), .string("x")]).status == .ok)

            let fixed =
                good.replacingOccurrences(
                    of: "exec_allow = /bin/echo, /bin/sh, /bin/sleep", with: "exec_allow = /bin/sh")
                + "\n[load1]\ncommand = load\nparameters = 1\nreturn_type = float\nticks = 0\n"
            try fixed.write(toFile: h.configPath, atomically: true, encoding: .utf8)
            let reloaded = try await h.command("reload")
            #expect(reloaded.status == .ok)
            #expect(reloaded.output.contains("2 properties"))
            #expect(!reloaded.output.contains("next start"))
            #expect(await h.service.reloadCount == 1)
            #expect(value(try await h.ask(["load1"]), "load1") == .float(1.41))
            // The new allowlist is in effect, and commands keep their order after the swap.
            #expect(try await h.command("exec", [.string("/bin/echo"), .string("x")]).status == .refused)
            #expect(
                try await h.command("exec", [.string("/bin/sh"), .string("-c"), .string("echo y")]).output == "y\n")
        }
    }

    @Test("shutdown reports its result, says bye and ends run()")
    func shutdown() async throws {
        let h = try Harness(config: Self.config())
        try await h.start()
        let result = try await h.command("shutdown")
        #expect(result.status == .ok)
        try await eventually("run() to return") { h.runResult.withLock { $0 } != nil }
        // The bye may still be on the in-memory wire (another thread delivering), and the log's task takes the
        // Manager's events off their stream on its own: the leave is waited for.
        try await eventually("the leave") {
            h.log.contains { if case .leave(let name, _) = $0 { name == "node01" } else { false } }
        }
        await h.finish()
    }

    @Test("the Client survives unexpected messages from the Manager")
    func badMessages() async throws {
        try await withHarness(config: Self.config()) { h in
            h.bus.send(.event(Event(kind: "surprise")), to: .client(h.name))
            h.bus.send(.property(PropertyReport(readings: [])), to: .client(h.name))
            h.bus.send(
                .getProperty(GetProperty(requestID: 99, names: ["", "ram_free", "ram_free"])), to: .client(h.name))
            let alive = try await h.command("exec", [.string("/bin/echo"), .string("alive")])
            #expect(alive.output == "alive\n")
            #expect(h.runResult.withLock { $0 } == nil)
        }
    }
}
