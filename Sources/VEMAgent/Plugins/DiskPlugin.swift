#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// `disk`: space of the file system holding a path, from `statvfs(3)`.
///
/// Parameters: `[path, measure]`: the path (default `/`, looked up under the root) and what to report:
/// - `free` (default): bytes available to unprivileged users (`f_bavail × f_frsize`, what `df` shows
///   as *Avail*), as an int;
/// - `used`: bytes in use (`(f_blocks − f_bfree) × f_frsize`), as an int;
/// - `total`: the file system's size (`f_blocks × f_frsize`), as an int;
/// - `used_percent`: `used / (used + free) × 100`, as a float (what `df` shows as *Use%*).
///
/// ```
/// [scratch_free]
/// command = disk
/// parameters = /scratch, free
/// return_type = int
/// ticks = 120
/// ```
public struct DiskPlugin: PropertyPlugin {
    /// `disk`.
    public let name = "disk"
    private let root: FileSystemRoot

    /// Creates the plugin; paths are looked up under `root`.
    public init(root: FileSystemRoot) { self.root = root }

    /// Reads the measure.
    /// - Throws: ``AgentError`` `.badParameters`, `.missingFile` (statvfs failed).
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        try Params.atMost(2, parameters, plugin: name, usage: "a path and free, used, total or used_percent")
        let path = Params.at(parameters, 0, default: "/") ?? "/"
        let measure = Params.at(parameters, 1, default: "free") ?? "free"
        guard ["free", "used", "total", "used_percent"].contains(measure) else {
            throw AgentError(.badParameters, "disk measure must be free, used, total or used_percent, not '\(measure)'")
        }
        let real = try root.resolve(path)
        var s = statvfs()
        guard statvfs(real, &s) == 0 else {
            throw AgentError(.missingFile, "cannot statvfs \(path)", cause: String(cString: strerror(errno)))
        }
        let frsize = UInt64(s.f_frsize)
        let blocks = UInt64(s.f_blocks)
        let bfree = UInt64(s.f_bfree)
        let bavail = UInt64(s.f_bavail)
        let used = (blocks - min(blocks, bfree)) * frsize
        let free = bavail * frsize
        switch measure {
        case "used": return .int(Int64(clamping: used))
        case "total": return .int(Int64(clamping: blocks * frsize))
        case "used_percent":
            let denominator = used + free
            return .float(denominator == 0 ? 0 : Double(used) / Double(denominator) * 100)
        default: return .int(Int64(clamping: free))
        }
    }
}
