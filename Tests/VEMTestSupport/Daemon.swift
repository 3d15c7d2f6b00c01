import Foundation
import VEMAgent

#if canImport(Glibc)
    import Glibc
#endif

// Shared by the integration suites that start daemons (SlurmIntegrationTests, EndToEndTests).

/// A daemon the tests start in the foreground (`posix_spawn`, its own process group, output appended to a log
/// file) and stop by PID (SIGTERM, then SIGKILL), never by name. The test process reaps it itself.
public final class Daemon: @unchecked Sendable {
    /// Its name (for messages).
    public let name: String
    /// Its PID.
    public let pid: pid_t
    /// Where its output goes.
    public let logPath: String
    private let lock = NSLock()
    private var exited = false

    /// Starts `program arguments…` with `environment` added to a minimal one.
    public init(
        name: String, program: String, arguments: [String], environment: [String: String] = [:], logPath: String
    )
        throws
    {
        self.name = name
        self.logPath = logPath
        var env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]
        env.merge(environment) { $1 }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeInheritedDescriptors(&actions)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        posix_spawnattr_setsigdefault(&attr, &allSignals)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = env.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, program, &actions, &attr, argv, envp)
        guard rc == 0 else { throw HarnessError("cannot start \(name) (\(program)): errno \(rc)") }
        pid = child
    }

    /// True until the daemon has exited (it is reaped here).
    public var isRunning: Bool {
        lock.withLock {
            guard !exited else { return false }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno == ECHILD) { exited = true }
            return !exited
        }
    }

    /// Stops the daemon: SIGTERM, and SIGKILL when it has not exited after `grace`.
    public func stop(grace: Duration = .seconds(5)) async {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard isRunning else { return }
        kill(pid, SIGKILL)
        let hard = ContinuousClock.now + .seconds(5)
        while isRunning, ContinuousClock.now < hard { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Kills the daemon with SIGKILL, by its PID only (children in its process group live on, as when a daemon
    /// crashes), and waits until it is reaped (at most 10 s).
    public func kill9() async {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        let hard = ContinuousClock.now + .seconds(10)
        while isRunning, ContinuousClock.now < hard { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// The last lines of its log, for failure messages.
    public var logTail: String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }
}

/// A harness failure with a clear message.
public struct HarnessError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// Runs a helper program (ip, mungekey, sbatch, …) and returns its standard output; fails on a non-zero exit.
@discardableResult
public func runTool(
    _ program: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(20)
) async throws -> String {
    var config = ProcessRunner.Configuration(timeout: timeout)
    config.environment.merge(environment) { $1 }
    let result = try await ProcessRunner(configuration: config).run(program, arguments: arguments)
    guard result.succeeded else {
        throw HarnessError(
            "\(program) \(arguments.joined(separator: " ")) failed (\(result.termination), timed out: \(result.timedOut)): "
                + result.errorText)
    }
    return result.outputText
}

/// Polls `condition` every 100 ms until it returns a value or `timeout` passes.
@discardableResult
public func eventually<T>(
    _ what: String, within timeout: Duration = .seconds(30), _ condition: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while true {
        do {
            if let value = try await condition() { return value }
        } catch {
            lastError = error
        }
        guard ContinuousClock.now < deadline else {
            throw HarnessError(
                "timed out after \(timeout) waiting for \(what)" + (lastError.map { "; last error: \($0)" } ?? ""))
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// Free TCP ports, asked of the OS (bind to port 0, read the port, close).
public func freePorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for s in sockets { close(s) } }
    var ports: [Int] = []
    for _ in 0..<count {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw HarnessError("socket failed") }
        sockets.append(s)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0
            }
        }
        guard bound else { throw HarnessError("cannot bind a free port") }
        ports.append(Int(UInt16(bigEndian: addr.sin_port)))
    }
    return ports
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
public func isListening(_ port: Int) -> Bool {
    let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard s >= 0 else { return false }
    defer { close(s) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
