import VEMCore

/// `ram`: one field of `/proc/meminfo`, by name, as an integer.
///
/// Parameters: `[field]`, the field name exactly as in the file (`MemFree`, `MemAvailable`,
/// `SwapFree`, `HugePages_Free`, …). Units: the number as the kernel prints it — **kB** (1024 bytes)
/// for the fields that carry `kB`, a plain count for the `HugePages_*` counters.
///
/// ```
/// [ram_free]
/// command = ram
/// parameters = MemFree
/// return_type = int
/// ticks = 60
/// ```
public struct RamPlugin: PropertyPlugin {
    /// `ram`.
    public let name = "ram"
    private let root: FileSystemRoot

    /// Creates the plugin reading `<root>/proc/meminfo`.
    public init(root: FileSystemRoot) { self.root = root }

    /// Reads the field as `.int`.
    /// - Throws: ``AgentError`` `.badParameters`, `.missingFile`, `.notFound` (with a "did you mean"),
    ///   `.malformedInput`.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        try Params.atMost(1, parameters, plugin: name, usage: "a /proc/meminfo field such as MemFree")
        guard let field = Params.at(parameters, 0) else {
            throw AgentError(.badParameters, "ram needs a /proc/meminfo field name such as MemFree")
        }
        let fields = try Self.parse(try root.readText("/proc/meminfo"))
        guard let value = fields[field] else {
            var message = "/proc/meminfo has no field '\(field)'"
            if let near = closestMatch(to: field, in: fields.keys) { message += "; did you mean '\(near)'?" }
            throw AgentError(.notFound, message)
        }
        guard let v = value else { throw AgentError(.malformedInput, "/proc/meminfo field '\(field)' is not a number") }
        return .int(v)
    }

    /// Parses `/proc/meminfo` into field → value (nil when the value is not an integer).
    /// - Throws: ``AgentError`` `.malformedInput` when no line has the `Name: value` shape.
    static func parse(_ text: String) throws -> [String: Int64?] {
        var fields: [String: Int64?] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingWhitespace(newlines: false)
            guard !key.isEmpty, !key.contains(" ") else { continue }
            let words = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true)
            let number = words.first.flatMap { Int64($0) }
            let unitOK = words.count == 1 || (words.count == 2 && words[1] == "kB")
            fields[key] = unitOK ? number : nil
        }
        guard !fields.isEmpty else { throw AgentError(.malformedInput, "/proc/meminfo has no 'Name: value' line") }
        return fields
    }
}
