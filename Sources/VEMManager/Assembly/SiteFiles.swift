import Foundation
import VEMConfig
import VEMCore
import VEMSite

/// A site read from its INI files: what `vem manager -c …` starts with and what `vem reload` (and SIGHUP)
/// read again.
public enum SiteFiles {
    /// What loading the files gave: the site (nil when any file is unreadable or has an error) and every
    /// diagnostic rendered as `file:line:col: severity: …` with its caret.
    public struct Loaded: Sendable {
        /// The site, or nil.
        public var site: Site?
        /// The rendered diagnostics (warnings too), in file order.
        public var diagnostics: [String]
        /// How many of them are errors.
        public var errors: Int
        /// How many of them are warnings.
        public var warnings = 0
    }

    /// Reads and loads `paths`, in order.
    /// - Parameter checkingAll: Load the readable files even when one is unreadable (`vem check-config` reports
    ///   every problem; the Manager stops at the first unreadable file).
    public static func load(_ paths: [String], checkingAll: Bool = false) -> Loaded {
        let (sources, unreadablePaths) = read(paths)
        let unreadable = unreadablePaths.map { "\($0): error: cannot read file" }
        guard unreadable.isEmpty || checkingAll else {
            return Loaded(site: nil, diagnostics: unreadable, errors: unreadable.count)
        }
        let result = Site.load(sources)
        var renderer = DiagnosticRenderer()
        renderer.addConfigSources(sources)
        return Loaded(
            site: unreadable.isEmpty ? result.site : nil,
            diagnostics: unreadable + result.diagnostics.map { renderer.render($0) },
            errors: result.diagnostics.filter { $0.severity == .error }.count + unreadable.count,
            warnings: result.diagnostics.filter { $0.severity == .warning }.count)
    }

    /// Reads `paths`, in order: the sources of the readable ones, and the paths that could not be read.
    public static func read(_ paths: [String]) -> (sources: [ConfigSource], unreadable: [String]) {
        var sources: [ConfigSource] = []
        var unreadable: [String] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                unreadable.append(path)
                continue
            }
            sources.append(ConfigSource(name: path, bytes: [UInt8](data)))
        }
        return (sources, unreadable)
    }
}
