import Foundation
import Logging
import VEMBus
import VEMHub

#if canImport(Glibc)
    import Glibc
#endif

/// `vem bench agent`: an idle agent process with the paper's `ram_free` property (collected every second),
/// connected to a hub on loopback: its resident set once settled, where it lies (``Figures/mappings``), and its
/// CPU per collection. The agent is a guest's `vem-agent` or a host's `vem agent`.
public struct AgentBench: Sendable {
    /// Seconds measured (after a 3 s warm-up).
    public var seconds = 20
    /// The agent's executable.
    public let executable: URL
    /// Its arguments before `-c agent.ini` (`["agent"]` for `vem agent`, none for `vem-agent`).
    public let arguments: [String]

    /// A bench of `seconds`, running `executable arguments… -c agent.ini`.
    public init(seconds: Int = 20, executable: URL, arguments: [String] = ["agent"]) {
        self.seconds = seconds
        self.executable = executable
        self.arguments = arguments
    }

    /// The figures.
    public struct Figures: Sendable {
        /// The agent's RSS once settled, KiB.
        public var rssKiB = 0
        /// Its peak RSS (VmHWM), KiB.
        public var peakKiB = 0
        /// CPU (user + system) per collection, milliseconds.
        public var cpuPerCollection = 0.0
        /// Collections in the measured span.
        public var collections = 0
        /// The agent's command line, for the table.
        public var command = ""
        /// The resident set by mapping, largest first (``residentByMapping(_:)``).
        public var mappings: [(name: String, kib: Int)] = []

        /// One JSON object.
        public var json: String {
            let parts = mappings.map { "\"\($0.name)\": \($0.kib)" }.joined(separator: ", ")
            return "{\"agent_rss_kib\": \(rssKiB), \"agent_peak_rss_kib\": \(peakKiB), "
                + "\"cpu_ms_per_collection\": \(fixed(cpuPerCollection, 3)), \"collections\": \(collections), "
                + "\"rss_kib_by_mapping\": {\(parts)}}"
        }

        /// A table for people.
        public var table: String {
            [
                "agent bench: an idle `\(command)` with ram_free every second",
                "RSS                         \(rssKiB) KiB (\(fixed(Double(rssKiB) / 1_024, 1)) MiB)",
                "peak RSS                    \(peakKiB) KiB",
                "CPU per collection          \(fixed(cpuPerCollection, 3)) ms (over \(collections) collections)",
                "RSS by mapping (KiB):",
            ].joined(separator: "\n")
                + mappings.prefix(12).map { "\n" + AgentBench.pad("\($0.kib)", 10) + "  \($0.name)" }.joined()
        }
    }

    /// Runs the agent against a hub on loopback and measures it.
    /// - Throws: ``BenchError`` when the agent does not join or exits.
    public func run() async throws -> Figures {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vem-bench-agent-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let token = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let tokenFile = scratch.appendingPathComponent("token")
        try token.write(to: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile.path, 0o600)
        let quiet = {
            var l = Logger(label: "vem.bench.agent")
            l.logLevel = .critical
            return l
        }()
        let hub = HubServer(
            configuration: HubConfiguration(
                host: "127.0.0.1", port: 0,
                engine: ManagerEngine.Configuration(admission: Admission(sharedToken: token))),
            logger: quiet)
        let port = try await hub.start()
        let config = scratch.appendingPathComponent("agent.ini")
        try """
        [client]
        name = bench-agent
        role = dom0
        host = bench-agent
        manager = 127.0.0.1:\(port)
        token_file = \(tokenFile.path)

        [ram_free]
        command = ram
        parameters = MemFree
        return_type = int
        ticks = 1
        """.write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + ["-c", config.path, "--log-level", "error"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while hub.members().isEmpty {
            guard process.isRunning, ContinuousClock.now < deadline else {
                await hub.shutdown()
                throw BenchError("the agent did not join the hub within 30 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .seconds(3))
        let pid = process.processIdentifier
        let cpuBefore = Self.cpuMilliseconds(pid)
        try await Task.sleep(for: .seconds(seconds))
        var figures = Figures()
        figures.collections = seconds
        figures.cpuPerCollection = (Self.cpuMilliseconds(pid) - cpuBefore) / Double(max(1, seconds))
        (figures.rssKiB, figures.peakKiB) = (Self.status(pid, "VmRSS:"), Self.status(pid, "VmHWM:"))
        // Read to the end: /proc files have no size, and a read by size stops short.
        let smaps = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps").map {
            String(decoding: $0.readDataToEndOfFile(), as: UTF8.self)
        }
        figures.mappings = Self.residentByMapping(smaps ?? "")
        figures.command = ([executable.lastPathComponent] + arguments).joined(separator: " ")
        guard process.isRunning else { throw BenchError("the agent exited") }
        kill(pid, SIGTERM)
        process.waitUntilExit()
        await hub.shutdown()
        return figures
    }

    /// `text` right-aligned in `width` columns.
    static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// The resident set by mapping from `/proc/PID/smaps`: each file by its name (the executable, each shared
    /// library), `[anon]` for anonymous memory (the heap, thread stacks, the allocator's arenas), the others by
    /// their kernel name (`[stack]`, `[vdso]`); largest first, those with nothing resident left out.
    public static func residentByMapping(_ smaps: String) -> [(name: String, kib: Int)] {
        var byName: [String: Int] = [:]
        var current = "[anon]"
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                let name = fields.count == 6 ? fields[5].trimmingCharacters(in: .whitespaces) : "[anon]"
                current = name == "[heap]" ? "[anon]" : name.split(separator: "/").last.map(String.init) ?? name
            } else if fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                byName[current, default: 0] += kib
            }
        }
        return byName.filter { $0.value > 0 }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map {
            (name: $0.key, kib: $0.value)
        }
    }

    /// A `/proc/PID/status` field in KiB.
    static func status(_ pid: Int32, _ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// User + system CPU of `pid`, milliseconds (from `/proc/PID/stat`, in clock ticks).
    static func cpuMilliseconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) * 1_000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
