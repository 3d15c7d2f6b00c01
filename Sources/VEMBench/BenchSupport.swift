import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a benchmark could not run.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    /// An error that says `description`.
    public init(_ description: String) { self.description = description }
}

/// The figures `vem bench bus` prints.
public struct BenchFigures: Sendable {
    var transport: String
    var clients: Int
    var heartbeatMilliseconds: Int
    var roundP50 = 0.0
    var roundP99 = 0.0
    var ingest = 0.0
    var ingestSingle = 0.0
    var commandP50 = 0.0
    var commandP99 = 0.0
    var rssPerClientKiB = 0.0
    var killDetect = 0.0
    var baselineP50 = 0.0
    var baselineP99 = 0.0
    var roundCPU = 0.0
    var baselineRoundCPU = 0.0
    var notes: [String] = []
    /// More fields after the common ones (`vem bench bus --transport nats` adds the hub's figures of the same run).
    var extra: [Extra] = []

    /// A field after the common ones.
    struct Extra: Sendable {
        var name: String
        var value: String
    }

    var ratio: Double { baselineP50 > 0 ? roundP50 / baselineP50 : 0 }

    /// One JSON object.
    public var json: String {
        let fields: [(String, String)] = [
            ("transport", "\"\(transport)\""), ("clients", "\(clients)"),
            ("round_p50_ms", fixed(roundP50)), ("round_p99_ms", fixed(roundP99)),
            ("ingest_msgs_per_s", fixed(ingest, 0)), ("ingest_single_msgs_per_s", fixed(ingestSingle, 0)),
            ("command_p50_ms", fixed(commandP50)), ("command_p99_ms", fixed(commandP99)),
            ("manager_rss_per_client_kib", fixed(rssPerClientKiB)), ("kill_detect_ms", fixed(killDetect)),
            ("heartbeat_interval_ms", "\(heartbeatMilliseconds)"),
            ("baseline_round_p50_ms", fixed(baselineP50)), ("baseline_round_p99_ms", fixed(baselineP99)),
            ("round_ratio", fixed(ratio, 3)),
            ("manager_cpu_ms_per_round", fixed(roundCPU)), ("baseline_cpu_ms_per_round", fixed(baselineRoundCPU)),
        ] + extra.map { ($0.name, $0.value) }
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// A table for people.
    public var table: String {
        var lines = [
            "bus bench: transport \(transport), \(clients) clients",
            row("round p50 / p99", "\(fixed(roundP50)) / \(fixed(roundP99)) ms"),
            row("baseline round p50 / p99", "\(fixed(baselineP50)) / \(fixed(baselineP99)) ms (bare NIO echo)"),
            row("round ratio", "\(fixed(ratio, 3)) × baseline p50"),
            row("server CPU per round", "\(fixed(roundCPU)) ms hub, \(fixed(baselineRoundCPU)) ms echo (user + system)"),
            row("ingest (bursts)", "\(fixed(ingest, 0)) msgs/s"),
            row("ingest (single)", "\(fixed(ingestSingle, 0)) msgs/s"),
            row("command p50 / p99", "\(fixed(commandP50)) / \(fixed(commandP99)) ms"),
            row("manager RSS per client", "\(fixed(rssPerClientKiB)) KiB"),
            row("kill detection", "\(fixed(killDetect)) ms (heartbeat \(heartbeatMilliseconds) ms)"),
        ]
        lines += extra.map { row($0.name, $0.value) }
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n")
    }

    private func row(_ name: String, _ value: String) -> String {
        // A label longer than the column keeps one space before its value.
        name.padding(toLength: max(28, name.count + 1), withPad: " ", startingAt: 0) + value
    }
}

func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

/// The `q` quantile (nearest rank) of `values`.
func percentile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(sorted.count - 1, max(0, rank))]
}

/// CPU time (user + system) this process has used, in milliseconds.
func processCPUMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1_000 + Double(t.tv_usec) / 1_000 }
    return ms(usage.ru_utime) + ms(usage.ru_stime)
}

/// This process's resident set size, from /proc/self/status (VmRSS), in KiB.
func residentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : scaled + attoseconds / 1_000_000_000
    }

    /// In milliseconds, as a Double.
    var milliseconds: Double {
        Double(components.seconds) * 1_000 + Double(components.attoseconds) / 1e15
    }
}

/// A child process driven by lines: standard input to send, standard output read on a thread of its own.
final class ChildProcess: Sendable {
    private let process: Process
    private let input: FileHandle
    private let lines: Mutex<[String]> = Mutex([])
    private let ended = Mutex(false)

    /// Starts `executable` with `arguments`; a `niceness` above 0 starts it through `nice -n` (every thread of the
    /// child at that lower CPU priority).
    init(executable: URL, arguments: [String], niceness: Int = 0) throws {
        let process = Process()
        if niceness > 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
            process.arguments = ["-n", "\(niceness)", executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        try process.run()
        self.process = process
        input = stdinPipe.fileHandleForWriting
        let output = stdoutPipe.fileHandleForReading
        let thread = Thread { [self] in
            var pending = Data()
            while true {
                let chunk = output.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    self.lines.withLock { $0.append(line) }
                }
            }
            self.ended.withLock { $0 = true }
        }
        thread.start()
    }

    /// Sends one line.
    func send(_ line: String) async throws {
        try input.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Waits for `line` (consuming the lines before it).
    func expect(_ line: String, timeout: Duration = .seconds(300)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = lines.withLock { lines -> Bool? in
                if let index = lines.firstIndex(of: line) {
                    lines.removeSubrange(...index)
                    return true
                }
                return nil
            }
            if found != nil { return }
            if ended.withLock({ $0 }) || ContinuousClock.now > deadline {
                throw BenchError("the child process did not print \(line)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits for a line starting with `prefix` (consuming the lines before it) and returns it.
    func expectPrefix(_ prefix: String, timeout: Duration = .seconds(300)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = lines.withLock { lines -> String? in
                guard let index = lines.firstIndex(where: { $0.hasPrefix(prefix) }) else { return nil }
                let line = lines[index]
                lines.removeSubrange(...index)
                return line
            }
            if let found { return found }
            if ended.withLock({ $0 }) || ContinuousClock.now > deadline {
                throw BenchError("the child process did not print a line starting with \(prefix)")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// SIGKILL.
    func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }

    /// Waits until the process has exited.
    func waitForExit() async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}
