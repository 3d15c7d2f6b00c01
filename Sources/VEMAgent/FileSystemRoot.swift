import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The directory that stands for `/` when built-in plugins read Linux's files.
///
/// Production uses `/`; tests point it at a fixture tree such as `Fixtures/proc-basic`, which holds
/// `proc/meminfo`, `proc/stat`, … Paths given to plugins are always absolute (`/proc/meminfo`) and are
/// looked up under the root.
public struct FileSystemRoot: Hashable, Sendable {
    /// The root directory.
    public var path: String

    /// Creates a root.
    /// - Parameter path: The directory that stands for `/`.
    public init(_ path: String) {
        var p = path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        self.path = p
    }

    /// The real path of an absolute path under this root.
    /// - Throws: ``AgentError`` `.badParameters` when `path` is not absolute or climbs out with `..`.
    public func resolve(_ path: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw AgentError(.badParameters, "path '\(path)' is not absolute")
        }
        guard !path.split(separator: "/").contains("..") else {
            throw AgentError(.badParameters, "path '\(path)' contains '..'")
        }
        return self.path == "/" ? path : self.path + path
    }

    /// Reads a file under the root as UTF-8 text (invalid bytes become U+FFFD).
    ///
    /// Reads until end of file, which is what `/proc` files need (their size is reported as 0).
    /// - Parameters:
    ///   - path: The absolute path (`/proc/meminfo`).
    ///   - limit: At most this many bytes are read (default 1 MiB).
    /// - Throws: ``AgentError`` `.missingFile` when the file cannot be opened or read.
    public func readText(_ path: String, limit: Int = 1 << 20) throws -> String {
        let real = try resolve(path)
        let fd = open(real, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw AgentError(.missingFile, "cannot open \(path)", cause: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AgentError(.missingFile, "cannot read \(path)", cause: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Helpers shared by the built-in plugins.
enum Params {
    /// The parameter at `index`, or `defaultValue`, trimmed.
    static func at(_ parameters: [String], _ index: Int, default defaultValue: String? = nil) -> String? {
        guard index < parameters.count else { return defaultValue }
        let p = parameters[index].trimmingWhitespace(newlines: false)
        return p.isEmpty ? defaultValue : p
    }

    /// Fails unless there are at most `count` parameters.
    static func atMost(_ count: Int, _ parameters: [String], plugin: String, usage: String) throws {
        guard parameters.count <= count else {
            throw AgentError(.badParameters, "\(plugin) takes at most \(count) parameter(s): \(usage)")
        }
    }
}
