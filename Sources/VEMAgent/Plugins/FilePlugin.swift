/// `file`: a file's content, or one capture of a regular expression in it.
///
/// Parameters: `[path]` or `[path, regex]`. Without a regex the value is the whole file (at most
/// 1 MiB) as text, converted by the return type. With a regex (Swift `Regex` syntax), the value is the
/// first match's capture group 1, or the whole match when the regex has no group; no match is a
/// `.notFound` failure. When the configuration splits parameters on commas, everything after the path
/// is joined back with `,`, so a regex may contain commas.
///
/// ```
/// [kernel]
/// command = file
/// parameters = /proc/sys/kernel/osrelease
/// return_type = str
/// ticks = 3600
///
/// [hugepages_total]
/// command = file
/// parameters = /proc/meminfo, HugePages_Total:\s+(\d+)
/// return_type = int
/// ticks = 600
/// ```
public struct FilePlugin: PropertyPlugin {
    /// `file`.
    public let name = "file"
    private let root: FileSystemRoot

    /// Creates the plugin; paths are looked up under `root`.
    public init(root: FileSystemRoot) { self.root = root }

    /// Reads the file (or the capture) as `.string` text.
    /// - Throws: ``AgentError`` `.badParameters` (no path, bad regex), `.missingFile`, `.notFound`.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        guard let path = Params.at(parameters, 0) else {
            throw AgentError(.badParameters, "file needs a path")
        }
        let text = try root.readText(path)
        guard parameters.count > 1 else { return .string(text) }
        let pattern = parameters.dropFirst().joined(separator: ",").trimmingWhitespace(newlines: false)
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            throw AgentError(.badParameters, "bad regular expression \(quote(pattern))", cause: "\(error)")
        }
        guard let match = try regex.firstMatch(in: text) else {
            throw AgentError(.notFound, "\(quote(pattern)) does not match \(path)")
        }
        let output = match.output
        if output.count > 1 {
            guard let group = output[1].substring else {
                throw AgentError(.notFound, "group 1 of \(quote(pattern)) did not take part in the match in \(path)")
            }
            return .string(String(group))
        }
        return .string(String(text[match.range]))
    }
}
