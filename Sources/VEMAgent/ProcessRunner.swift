import Synchronization
import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// How a program run by ``ProcessRunner`` ended.
public struct ProcessResult: Hashable, Sendable {
    /// How the process terminated.
    public enum Termination: Hashable, Sendable {
        /// It called `exit` with this status.
        case exited(Int32)
        /// It was killed by this signal.
        case signaled(Int32)
    }

    /// The process id (also its process group id).
    public var pid: Int32
    /// How it terminated.
    public var termination: Termination
    /// Standard output, at most the configured limit.
    public var standardOutput: [UInt8]
    /// True when standard output was longer than the limit (the rest was read and dropped).
    public var outputTruncated: Bool
    /// The first bytes of standard error, at most the configured error limit.
    public var standardError: [UInt8]
    /// True when the timeout expired and the process group was stopped.
    public var timedOut: Bool
    /// True when the calling task was cancelled and the process group was stopped.
    public var cancelled: Bool
    /// Wall time from spawn to the end.
    public var duration: Duration

    /// Standard output as UTF-8 text (invalid bytes become U+FFFD).
    public var outputText: String { String(decoding: standardOutput, as: UTF8.self) }
    /// Standard error as UTF-8 text.
    public var errorText: String { String(decoding: standardError, as: UTF8.self) }
    /// True when the program exited with status 0 in time.
    public var succeeded: Bool { termination == .exited(0) && !timedOut && !cancelled }
}

/// Runs a program without a shell, in its own process group, with a timeout and an output cap.
///
/// The program is started with `posix_spawn` (no `PATH` search: the path must be absolute), standard
/// input from `/dev/null`, a small fixed environment and default signal dispositions. A dedicated
/// thread (never a cooperative-pool thread) reads its output and waits for it; the caller awaits the
/// result. At the timeout (or when the calling task is cancelled) the whole process group gets
/// `SIGTERM`, then `SIGKILL` after the grace period. When the program exits, processes it left in its
/// process group are killed too (daemons must `setsid`).
public struct ProcessRunner: Sendable {
    /// Limits and environment.
    public struct Configuration: Sendable {
        /// How long the program may run. Default 30 s.
        public var timeout: Duration = .seconds(30)
        /// How long after `SIGTERM` the group gets `SIGKILL`. Default 1 s.
        public var killGrace: Duration = .seconds(1)
        /// At most this many bytes of standard output are kept. Default 64 KiB.
        public var outputLimit: Int = PluginOutcome.defaultOutputLimit
        /// At most this many bytes of standard error are kept. Default 4 KiB.
        public var errorLimit: Int = 4096
        /// The program's environment. Default `PATH=/usr/sbin:/usr/bin:/sbin:/bin`, `LC_ALL=C`.
        public var environment: [String: String] = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]

        /// Creates a configuration with the defaults, changing the timeout and output limit if given.
        public init(timeout: Duration = .seconds(30), outputLimit: Int = PluginOutcome.defaultOutputLimit) {
            self.timeout = timeout
            self.outputLimit = outputLimit
        }
    }

    /// The limits and environment.
    public var configuration: Configuration

    /// Creates a runner.
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// Runs `program` with `arguments` and returns how it ended.
    /// - Parameters:
    ///   - program: The absolute path of the program.
    ///   - arguments: Its arguments (without `argv[0]`).
    ///   - onSpawn: Called with the process id as soon as the program started (for tests and logs).
    /// - Returns: The result, also when the program failed, timed out or was cancelled.
    /// - Throws: ``AgentError`` `.badParameters` (relative path) or `.spawnFailed`.
    public func run(
        _ program: String, arguments: [String] = [], onSpawn: (@Sendable (Int32) -> Void)? = nil
    ) async throws -> ProcessResult {
        guard program.hasPrefix("/") else {
            throw AgentError(.badParameters, "program '\(program)' is not an absolute path")
        }
        let child = try Spawned.spawn(program, arguments, environment: configuration.environment)
        onSpawn?(child.pid)
        let cancel = CancelFlag()
        let config = configuration
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ProcessResult, Never>) in
                let body: @Sendable () -> Void = {
                    continuation.resume(returning: child.supervise(config, cancel: cancel))
                }
                // No thread left: supervise from a detached task rather than never answer.
                if !startDetachedThread(named: "vem-proc-\(child.pid)", body) { Task.detached { body() } }
            }
        } onCancel: {
            cancel.set()
        }
    }
}

/// A flag set from the cancellation handler, read by the supervising thread.
final class CancelFlag: @unchecked Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// A started child: its pid and the parent's ends of its output pipes.
struct Spawned: Sendable {
    var pid: pid_t
    var out: Int32
    var err: Int32

    static func spawn(_ program: String, _ arguments: [String], environment: [String: String]) throws -> Spawned {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw errnoError("pipe") }
        guard pipe(&errPipe) == 0 else {
            let e = errnoError("pipe")
            close(outPipe[0])
            close(outPipe[1])
            throw e
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        for fd in [outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        defer {
            close(outPipe[1])
            close(errPipe[1])
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // The child gets standard input, output and error only: no inherited socket (the Client's connection to
        // the Manager, a listener) outlives the parent in a long-running program.
        _ = closeFrom?(&actions, 3)

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
        posix_spawnattr_setflags(
            &attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, &attr, argv, envp)
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw AgentError(.spawnFailed, "cannot start \(program)", cause: String(cString: strerror(rc)))
        }
        return Spawned(pid: pid, out: outPipe[0], err: errPipe[0])
    }

    /// Reads output and waits for the child, enforcing the timeout. Runs on a dedicated thread.
    func supervise(_ config: ProcessRunner.Configuration, cancel: CancelFlag) -> ProcessResult {
        let start = monotonicSeconds()
        let deadline = start + seconds(config.timeout)
        let grace = seconds(config.killGrace)
        let drainGrace = 0.2
        var output = Capture(limit: config.outputLimit)
        var errors = Capture(limit: config.errorLimit)
        var outFD: Int32? = out
        var errFD: Int32? = err
        var exitedAt: Double?
        var termSentAt: Double?
        var killSent = false
        var timedOut = false
        var cancelled = false

        while true {
            if exitedAt == nil, hasExited() { exitedAt = monotonicSeconds() }
            let now = monotonicSeconds()
            if let t = exitedAt {
                if outFD == nil && errFD == nil { break }
                if now - t > drainGrace { break }  // leftovers (or a concurrently spawned child) hold the pipes
            } else {
                if termSentAt == nil, cancel.isSet || now >= deadline {
                    if cancel.isSet { cancelled = true } else { timedOut = true }
                    kill(-pid, SIGTERM)
                    termSentAt = now
                } else if let t = termSentAt, !killSent, now >= t + grace {
                    kill(-pid, SIGKILL)
                    killSent = true
                }
            }
            var fds = [outFD, errFD].compactMap { $0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let waitMs = Int32(max(1, min(20, ((termSentAt == nil ? deadline : now + 0.02) - now) * 1000)))
            _ = poll(&fds, nfds_t(fds.count), waitMs)
            if let fd = outFD, !output.drain(fd) {
                close(fd)
                outFD = nil
            }
            if let fd = errFD, !errors.drain(fd) {
                close(fd)
                errFD = nil
            }
        }
        if let fd = outFD { close(fd) }
        if let fd = errFD { close(fd) }
        // The exited leader is not reaped yet, so its process group id cannot have been reused: kill what
        // the program left in its group (ESRCH when nothing), then reap it.
        kill(-pid, SIGKILL)
        var status: Int32?
        while status == nil {
            var s: Int32 = 0
            let r = waitpid(pid, &s, 0)
            if r == pid { status = s } else if r < 0 && errno != EINTR { break }
        }
        let raw = status ?? 0x7f
        let termination: ProcessResult.Termination =
            raw & 0x7f == 0 ? .exited((raw >> 8) & 0xff) : .signaled(raw & 0x7f)
        let elapsed = monotonicSeconds() - start
        return ProcessResult(
            pid: pid, termination: termination, standardOutput: output.bytes, outputTruncated: output.truncated,
            standardError: errors.bytes, timedOut: timedOut, cancelled: cancelled,
            duration: .nanoseconds(Int64(elapsed * 1e9)))
    }
}

extension Spawned {
    /// True when the child has exited; it stays a zombie (not reaped) so that its pid and process
    /// group id stay reserved until ``supervise(_:cancel:)`` has cleaned up the group.
    func hasExited() -> Bool {
        var info = siginfo_t()
        while true {
            let r = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            if r == 0 { return info.si_signo == SIGCHLD }
            if errno == EINTR { continue }
            return true  // ECHILD: nothing to wait for
        }
    }
}

/// Bytes read from a pipe, kept up to a limit; the rest is read and dropped so the writer never blocks.
struct Capture {
    let limit: Int
    var bytes: [UInt8] = []
    var truncated = false

    init(limit: Int) { self.limit = max(0, limit) }

    /// Reads what is available; returns false at end of file (or on a read error).
    mutating func drain(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                let room = limit - bytes.count
                if room > 0 { bytes.append(contentsOf: buffer[0..<min(n, room)]) }
                if n > room { truncated = true }
                continue
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK
        }
    }
}

func monotonicSeconds() -> Double { MonotonicClock.monotonicSeconds() }

func errnoError(_ call: String) -> AgentError {
    AgentError(.systemCall, "\(call) failed", cause: String(cString: strerror(errno)))
}

/// Makes a child started with these file actions close every descriptor from `lowest` up, so that it
/// inherits none of the parent's sockets or pipes (NIO does not create its sockets close-on-exec: a daemon
/// started by a process holding a listening socket would otherwise keep that port bound after the parent
/// closed it).
/// - Returns: False where the C library lacks `posix_spawn_file_actions_addclosefrom_np` (glibc < 2.34).
@discardableResult
public func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t, from lowest: Int32 = 3) -> Bool {
    guard let closeFrom else { return false }
    return closeFrom(&actions, lowest) == 0
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+; not imported into Swift), looked up once; nil where
/// the C library lacks it (then children inherit descriptors that are not close-on-exec, as before).
private let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(
        symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()
