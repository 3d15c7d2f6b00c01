/// `load`: the 1-, 5- or 15-minute load average from `/proc/loadavg`, as a float.
///
/// Parameters: `[minutes]`, one of `1` (default), `5`, `15`.
///
/// ```
/// [load5]
/// command = load
/// parameters = 5
/// return_type = float
/// ticks = 30
/// ```
public struct LoadPlugin: PropertyPlugin {
    /// `load`.
    public let name = "load"
    private let root: FileSystemRoot

    /// Creates the plugin reading `<root>/proc/loadavg`.
    public init(root: FileSystemRoot) { self.root = root }

    /// Reads the load average as `.float`.
    /// - Throws: ``AgentError`` `.badParameters`, `.missingFile`, `.malformedInput`.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        try Params.atMost(1, parameters, plugin: name, usage: "1, 5 or 15")
        let which = Params.at(parameters, 0, default: "1") ?? "1"
        let column: Int
        switch which {
        case "1", "1m", "1min": column = 0
        case "5", "5m", "5min": column = 1
        case "15", "15m", "15min": column = 2
        default: throw AgentError(.badParameters, "load takes 1, 5 or 15 (minutes), not '\(which)'")
        }
        let text = try root.readText("/proc/loadavg")
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard words.count >= 3 else {
            throw AgentError(.malformedInput, "/proc/loadavg has \(words.count) field(s), expected at least 3")
        }
        guard let v = Double(words[column]), v.isFinite, v >= 0 else {
            throw AgentError(
                .malformedInput, "/proc/loadavg field \(column + 1) \(quote(String(words[column]))) is not a number")
        }
        return .float(v)
    }
}
