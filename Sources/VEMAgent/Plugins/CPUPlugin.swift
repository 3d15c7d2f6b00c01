/// `cpu`: CPU utilisation in percent (0–100) between this read and the previous one, from the
/// jiffy counters of `/proc/stat`, as a float.
///
/// Parameters: `[line]`, the `/proc/stat` line to watch: `cpu` (all CPUs, the default) or `cpu0`,
/// `cpu1`, …. Utilisation is `100 × Δbusy / Δtotal`, where idle time is `idle + iowait` and `total`
/// sums the first eight counters (guest time is already counted in user time).
///
/// **Stateful.** The plugin remembers the previous sample per property (and line); the *first* read
/// of a property, a read after the counters went backwards, and a read when no jiffy has passed
/// return a `.warmingUp` failure value instead of a number. With `ticks = 10` the first value arrives
/// after ten seconds.
///
/// ```
/// [cpu_busy]
/// command = cpu
/// parameters = cpu
/// return_type = float
/// ticks = 10
/// ```
public struct CPUPlugin: PropertyPlugin {
    /// `cpu`.
    public let name = "cpu"
    private let root: FileSystemRoot
    private let memory = CounterMemory<Jiffies>()

    struct Jiffies: Sendable, Equatable {
        var busy: UInt64
        var total: UInt64
    }

    /// Creates the plugin reading `<root>/proc/stat`.
    public init(root: FileSystemRoot) { self.root = root }

    /// Reads the utilisation as `.float` percent.
    /// - Throws: ``AgentError`` `.warmingUp` on the first sample, `.badParameters`, `.missingFile`,
    ///   `.notFound`, `.malformedInput`.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        try Params.atMost(1, parameters, plugin: name, usage: "a /proc/stat line such as cpu or cpu0")
        let line = Params.at(parameters, 0, default: "cpu") ?? "cpu"
        let sample = try Self.parse(try root.readText("/proc/stat"), line: line)
        let key = context.propertyName + "\u{0}" + line
        guard let previous = await memory.exchange(key, sample) else {
            throw AgentError(.warmingUp, "first sample of \(line); utilisation is available from the next read")
        }
        guard sample.total >= previous.total, sample.busy >= previous.busy else {
            throw AgentError(.warmingUp, "\(line) counters went backwards; starting over")
        }
        let dTotal = sample.total - previous.total
        guard dTotal > 0 else {
            _ = await memory.exchange(key, previous)
            throw AgentError(.warmingUp, "no time passed on \(line) since the previous sample")
        }
        let busy = Double(sample.busy - previous.busy) / Double(dTotal) * 100
        return .float(min(100, max(0, busy)))
    }

    /// The busy and total jiffies of one `/proc/stat` line.
    static func parse(_ text: String, line name: String) throws -> Jiffies {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first, first == name else { continue }
            let numbers = words.dropFirst().prefix(8)
            guard numbers.count >= 4 else {
                throw AgentError(
                    .malformedInput, "/proc/stat line '\(name)' has \(numbers.count) counter(s), expected at least 4")
            }
            var values: [UInt64] = []
            for w in numbers {
                guard let v = UInt64(w) else {
                    throw AgentError(
                        .malformedInput, "/proc/stat line '\(name)' has a non-numeric counter \(quote(String(w)))")
                }
                values.append(v)
            }
            let (total, overflow) = values.reduce((UInt64(0), false)) { acc, v in
                let r = acc.0.addingReportingOverflow(v)
                return (r.partialValue, acc.1 || r.overflow)
            }
            guard !overflow else { throw AgentError(.malformedInput, "/proc/stat line '\(name)' overflows") }
            let idle = values[3] + (values.count > 4 ? values[4] : 0)
            return Jiffies(busy: total - min(total, idle), total: total)
        }
        throw AgentError(.notFound, "/proc/stat has no line '\(name)'")
    }
}
