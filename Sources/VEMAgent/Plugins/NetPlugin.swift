/// `net`: bytes per second received or transmitted by a network interface between this read and the
/// previous one, from `/proc/net/dev`, as a float.
///
/// Parameters: `[interface, direction]`: the interface name (`eth0`) and `rx` (default) or `tx`.
///
/// **Stateful.** The rate is `Δbytes / Δt`, with `t` the Client's clock (``PropertyContext/now``).
/// The first read of a property, a read after the counter went backwards (interface reset) and a read
/// with no time passed return a `.warmingUp` failure value.
///
/// ```
/// [eth0_rx]
/// command = net
/// parameters = eth0, rx
/// return_type = float
/// ticks = 15
/// ```
public struct NetPlugin: PropertyPlugin {
    /// `net`.
    public let name = "net"
    private let root: FileSystemRoot
    private let memory = CounterMemory<Counter>()

    struct Counter: Sendable {
        var bytes: UInt64
        var time: Double
    }

    /// Creates the plugin reading `<root>/proc/net/dev`.
    public init(root: FileSystemRoot) { self.root = root }

    /// Reads the rate as `.float` bytes per second.
    /// - Throws: ``AgentError`` `.warmingUp` on the first sample, `.badParameters`, `.missingFile`,
    ///   `.notFound`, `.malformedInput`.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        try Params.atMost(2, parameters, plugin: name, usage: "an interface and rx or tx")
        guard let interface = Params.at(parameters, 0) else {
            throw AgentError(.badParameters, "net needs an interface name such as eth0")
        }
        let direction = Params.at(parameters, 1, default: "rx") ?? "rx"
        guard direction == "rx" || direction == "tx" else {
            throw AgentError(.badParameters, "net direction must be rx or tx, not '\(direction)'")
        }
        let bytes = try Self.parse(try root.readText("/proc/net/dev"), interface: interface, tx: direction == "tx")
        let now = Counter(bytes: bytes, time: context.now)
        let key = context.propertyName + "\u{0}" + interface + "\u{0}" + direction
        guard let previous = await memory.exchange(key, now) else {
            throw AgentError(
                .warmingUp, "first sample of \(interface) \(direction); the rate is available from the next read")
        }
        guard bytes >= previous.bytes else {
            throw AgentError(.warmingUp, "\(interface) \(direction) counter went backwards; starting over")
        }
        let dt = now.time - previous.time
        guard dt > 0 else {
            _ = await memory.exchange(key, previous)
            throw AgentError(.warmingUp, "no time passed since the previous sample of \(interface)")
        }
        return .float(Double(bytes - previous.bytes) / dt)
    }

    /// The received (or transmitted) byte counter of one interface.
    static func parse(_ text: String, interface: String, tx: Bool) throws -> UInt64 {
        var names: [String] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingWhitespace(newlines: false)
            names.append(name)
            guard name == interface else { continue }
            let fields = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true)
            let index = tx ? 8 : 0
            guard fields.count > index else {
                throw AgentError(
                    .malformedInput, "/proc/net/dev line for \(interface) has \(fields.count) field(s), expected 16")
            }
            guard let v = UInt64(fields[index]) else {
                throw AgentError(
                    .malformedInput,
                    "/proc/net/dev byte counter of \(interface) \(quote(String(fields[index]))) is not a number")
            }
            return v
        }
        let known = names.filter { !$0.contains("|") }
        throw AgentError(
            .notFound, "no interface '\(interface)' in /proc/net/dev (have: \(known.joined(separator: ", ")))")
    }
}
