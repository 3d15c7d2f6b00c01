import Foundation
import Synchronization

/// The `vem` executable built beside the test bundle.
public let vemExecutable: URL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("vem")

/// One `vem agent` process. Started and reaped without blocking Swift's cooperative pool: `run()` happens on a
/// dispatch queue and the exit is observed through `terminationHandler`.
public final class AgentProcess: Sendable {
    private let process: Process
    private let exit = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    /// Where standard error goes (the agent's log).
    public let logPath: String
    /// The process id.
    public let pid: Int32

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
        pid = process.processIdentifier
    }

    /// Starts `vem agent -c config`.
    public static func start(config: String, logPath: String, logLevel: String = "debug") async throws -> AgentProcess {
        guard FileManager.default.isExecutableFile(atPath: vemExecutable.path) else {
            throw HarnessError("vem is not built at \(vemExecutable.path)")
        }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try startBlocking(config: config, logPath: logPath, logLevel: logLevel) })
            }
        }
    }

    private static func startBlocking(config: String, logPath: String, logLevel: String) throws -> AgentProcess {
        let process = Process()
        process.executableURL = vemExecutable
        process.arguments = ["agent", "-c", config, "--log-level", logLevel]
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        let box = Mutex<AgentProcess?>(nil)
        process.terminationHandler = { p in box.withLock { $0 }?.exited(p.terminationStatus) }
        try process.run()
        let agent = AgentProcess(process: process, logPath: logPath)
        box.withLock { $0 = agent }
        if !process.isRunning { agent.exited(process.terminationStatus) }
        try? log.close()
        return agent
    }

    private func exited(_ status: Int32) {
        let waiters = exit.withLock { state -> [CheckedContinuation<Int32, Never>] in
            guard state.status == nil else { return [] }
            state.status = status
            defer { state.waiters = [] }
            return state.waiters
        }
        for w in waiters { w.resume(returning: status) }
    }

    /// The exit status once it has exited.
    public var status: Int32? { exit.withLock { $0.status } }

    /// Sends a signal to this process (by PID).
    public func signal(_ number: Int32) {
        if status == nil { kill(pid, number) }
    }

    /// Waits for the exit, at most `seconds`; nil on timeout.
    public func waitForExit(seconds: Double) async -> Int32? {
        await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done = self.exit.withLock { state -> Int32? in
                        if let s = state.status { return s }
                        state.waiters.append(continuation)
                        return nil
                    }
                    if let done { continuation.resume(returning: done) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            if first != nil { group.cancelAll() }
            return first
        }
    }

    /// SIGTERM (the agent says bye), then SIGKILL if it is still there after 5 s; by PID. Waits until reaped.
    public func stop() async {
        signal(SIGTERM)
        if await waitForExit(seconds: 5) == nil {
            signal(SIGKILL)
            _ = await waitForExit(seconds: 10)
        }
    }

    /// The agent's log so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
