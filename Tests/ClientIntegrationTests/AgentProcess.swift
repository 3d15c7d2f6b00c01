import Foundation
import Synchronization
import Testing

/// The `vem` executable built beside the test bundle.
let vemExecutable: URL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("vem")

/// One `vem agent` process. Started and reaped without blocking Swift's cooperative pool: `run()` happens on a
/// dispatch queue and the exit is observed through `terminationHandler`.
final class AgentProcess: Sendable {
    private let process: Process
    private let exit = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    /// Where standard error goes (the agent's log).
    let logPath: String
    /// The process id.
    let pid: Int32

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
        pid = process.processIdentifier
    }

    /// Starts `vem agent -c config`.
    static func start(config: String, logPath: String) async throws -> AgentProcess {
        guard FileManager.default.isExecutableFile(atPath: vemExecutable.path) else {
            Issue.record("vem is not built at \(vemExecutable.path)")
            throw CancellationError()
        }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try startBlocking(config: config, logPath: logPath) })
            }
        }
    }

    private static func startBlocking(config: String, logPath: String) throws -> AgentProcess {
        let process = Process()
        process.executableURL = vemExecutable
        process.arguments = ["agent", "-c", config, "--log-level", "debug"]
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
    var status: Int32? { exit.withLock { $0.status } }

    /// Sends a signal to this process (by PID).
    func signal(_ number: Int32) {
        if status == nil { kill(pid, number) }
    }

    /// Waits for the exit, at most `seconds`; nil on timeout.
    func waitForExit(seconds: Double) async -> Int32? {
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

    /// Kills the process (SIGKILL, by PID) and waits for it to be reaped.
    func stop() async {
        signal(SIGKILL)
        _ = await waitForExit(seconds: 10)
    }

    /// The agent's log so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// Samples `/proc/meminfo`'s MemFree on a dedicated thread until stopped, keeping the minimum and maximum.
final class MemFreeSampler: Sendable {
    private let state = Mutex<(min: Int64, max: Int64, samples: Int, stop: Bool)>((.max, .min, 0, false))
    private let done = DispatchSemaphore(value: 0)

    /// MemFree in kB now, read directly.
    static func read() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemFree:") {
            return Int64(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Starts sampling every `interval` seconds.
    init(interval: Double = 0.002) {
        let thread = Thread { [self] in
            while !state.withLock({ $0.stop }) {
                if let v = Self.read() {
                    state.withLock { s in
                        s.min = Swift.min(s.min, v)
                        s.max = Swift.max(s.max, v)
                        s.samples += 1
                    }
                }
                Thread.sleep(forTimeInterval: interval)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops sampling and returns (min, max, samples). Waits for the thread off the cooperative pool.
    func finish() async -> (min: Int64, max: Int64, samples: Int) {
        state.withLock { $0.stop = true }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.done.wait()
                c.resume()
            }
        }
        return state.withLock { ($0.min, $0.max, $0.samples) }
    }
}
