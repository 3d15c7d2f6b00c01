import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The repository root, found from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `vem` executable built beside the test bundle.
let vemBinary: URL = {
    let candidate = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vem")
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    return repositoryRoot.appendingPathComponent(".build/debug/vem")
}()

/// What a finished `vem` left behind.
struct Finished: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A scratch directory for one test (removed by the caller in `defer`).
func scratchDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vem-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs `vem` to completion off the cooperative pool (stdout and stderr go to files, read afterwards).
func runVEM(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> Finished {
    let id = UUID().uuidString
    let out = directory.appendingPathComponent("run-\(id).out"), err = directory.appendingPathComponent("run-\(id).err")
    let daemon = try Daemon.start(arguments, in: directory, stdout: out, stderr: err, environment: environment)
    let status = await daemon.waitForExit()
    defer {
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
    }
    return Finished(
        status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// A `vem` process started by a test, stopped by PID.
final class Daemon: @unchecked Sendable {
    let process: Process
    let stderrPath: URL
    private let exit = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var status: Int32?

    private init(process: Process, stderrPath: URL) {
        self.process = process
        self.stderrPath = stderrPath
    }

    /// Starts `vem arguments`, stdout and stderr to files, stdin empty.
    static func start(
        _ arguments: [String], in directory: URL, stdout: URL, stderr: URL, environment: [String: String] = [:]
    ) throws -> Daemon {
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
        FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = vemBinary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let daemon = Daemon(process: process, stderrPath: stderr)
        process.terminationHandler = { p in
            daemon.lock.withLock { daemon.status = p.terminationStatus }
            daemon.exit.signal()
        }
        try process.run()
        return daemon
    }

    /// The PID.
    var pid: Int32 { process.processIdentifier }

    /// Whether it has exited.
    var hasExited: Bool { lock.withLock { status != nil } }

    /// Waits for the exit off the cooperative pool; returns the status.
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.exit.wait()
                self.exit.signal()
                continuation.resume(returning: self.lock.withLock { self.status ?? -1 })
            }
        }
    }

    /// Sends a signal by PID (if still running) and waits for the exit.
    func stop(_ signal: Int32 = SIGTERM) async {
        if !hasExited { kill(pid, signal) }
        _ = await waitForExit()
    }

    /// Standard error so far (for failure messages).
    var stderr: String { (try? String(contentsOf: stderrPath, encoding: .utf8)) ?? "" }
}

/// Polls until `condition` returns a value or `seconds` pass; records an issue and returns nil on time-out.
func poll<T>(
    _ what: String, seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> T?
) async rethrows -> T? {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if let value = try await condition() { return value }
        try? await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
    return nil
}

/// The ports a Manager wrote to its `--port-file`.
struct Ports: Decodable {
    var hub: Int
    var http: Int
}

/// Waits for a Manager's port file.
func waitForPorts(_ file: URL, manager: Daemon) async -> Ports? {
    await poll("the manager's port file (stderr: \(manager.stderr))", seconds: 60) {
        guard !manager.hasExited, let data = try? Data(contentsOf: file) else { return nil }
        return try? JSONDecoder().decode(Ports.self, from: data)
    }
}
