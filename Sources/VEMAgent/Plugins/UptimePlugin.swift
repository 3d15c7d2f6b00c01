/// `uptime`: seconds since boot (or the idle seconds summed over CPUs) from `/proc/uptime`, as a float.
///
/// Parameters: `[]` or `[uptime]` for the first field, `[idle]` for the second.
///
/// ```
/// [uptime]
/// command = uptime
/// return_type = float
/// ticks = 300
/// ```
public struct UptimePlugin: PropertyPlugin {
    /// `uptime`.
    public let name = "uptime"
    private let root: FileSystemRoot

    /// Creates the plugin reading `<root>/proc/uptime`.
    public init(root: FileSystemRoot) { self.root = root }

    /// Reads the field as `.float` seconds.
    /// - Throws: ``AgentError`` `.badParameters`, `.missingFile`, `.malformedInput`.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        try Params.atMost(1, parameters, plugin: name, usage: "uptime or idle")
        let column: Int
        switch Params.at(parameters, 0, default: "uptime") {
        case "uptime": column = 0
        case "idle": column = 1
        case let other: throw AgentError(.badParameters, "uptime takes 'uptime' or 'idle', not '\(other ?? "")'")
        }
        let words = try root.readText("/proc/uptime").split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count >= 2 else {
            throw AgentError(.malformedInput, "/proc/uptime has \(words.count) field(s), expected 2")
        }
        guard let v = Double(words[column]), v.isFinite, v >= 0 else {
            throw AgentError(.malformedInput, "/proc/uptime field \(quote(String(words[column]))) is not a number")
        }
        return .float(v)
    }
}
