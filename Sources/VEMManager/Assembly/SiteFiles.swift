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
    }

    /// Reads and loads `paths`, in order.
    public static func load(_ paths: [String]) -> Loaded {
        var sources: [ConfigSource] = []
        var unreadable: [String] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                unreadable.append("\(path): error: cannot read file")
                continue
            }
            sources.append(ConfigSource(name: path, bytes: [UInt8](data)))
        }
        guard unreadable.isEmpty else { return Loaded(site: nil, diagnostics: unreadable, errors: unreadable.count) }
        let result = Site.load(sources)
        var renderer = DiagnosticRenderer()
        renderer.addConfigSources(sources)
        return Loaded(
            site: result.site, diagnostics: result.diagnostics.map { renderer.render($0) },
            errors: result.diagnostics.filter { $0.severity == .error }.count)
    }
}
