/// Renders diagnostics the way compilers do:
///
/// ```
/// site.ini:4:9: error: 'soon' is not an integer
///     ticks = soon
///             ^~~~
/// ```
///
/// The renderer knows the text of the files it was given; for a file it does not know it
/// prints the first line only.
public struct DiagnosticRenderer: Sendable {
    private var files: [String: [Substring]] = [:]

    /// Creates a renderer that knows no file yet.
    public init() {}

    /// Registers the text of a file so that its lines can be quoted.
    public mutating func addFile(named name: String, contents: String) {
        files[name] = contents.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
    }

    /// The quoted source line of a location, if known.
    public func line(of location: SourceLocation) -> Substring? {
        guard let lines = files[location.file], location.line >= 1, location.line <= lines.count else { return nil }
        return lines[location.line - 1]
    }

    /// Renders one diagnostic: the header line, then the source line and a caret when known.
    public func render(_ diagnostic: Diagnostic) -> String {
        var out = diagnostic.description
        guard let text = line(of: diagnostic.location) else { return out }
        let shown = String(text).replacingTabs()
        out += "\n    " + shown
        let scalars = Array(String(text).unicodeScalars)
        // Tabs were expanded to one space each, so the caret column equals the scalar column.
        let col = max(1, min(diagnostic.location.column, scalars.count + 1))
        let span = max(1, min(diagnostic.length, scalars.count + 1 - col))
        out += "\n    " + String(repeating: " ", count: col - 1) + "^" + String(repeating: "~", count: span - 1)
        return out
    }

    /// Renders many diagnostics, one block per diagnostic, separated by new lines.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map(render).joined(separator: "\n")
    }
}

extension String {
    fileprivate func replacingTabs() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\t" ? " " : $0 }))
    }
}
