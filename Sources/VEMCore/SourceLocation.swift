/// A position in a source file: 1-based line and column (columns count Unicode scalars).
///
/// Every diagnostic in VEM points at one of these, so that an administrator can jump
/// from `site.ini:12:9: error: …` straight to the mistake.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The file name as given on the command line (or a pseudo-name such as `<expr>`).
    public var file: String
    /// 1-based line number.
    public var line: Int
    /// 1-based column number, counted in Unicode scalars.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col`.
    public var description: String { "\(file):\(line):\(column)" }
}

/// A piece of source text cut out of a larger file, with the location of its first character.
///
/// The configuration reader hands the text between the braces of `expr = { … }` to the rule
/// language as a `SourceText`; the rule language reports positions *inside* the text, and
/// ``location(line:column:)`` maps them back into the file. The text is kept verbatim
/// (indentation included), so only the first line is shifted by the origin's column.
public struct SourceText: Hashable, Sendable, Codable {
    /// The text itself, verbatim.
    public var text: String
    /// Where `text`'s first character stands in its file.
    public var origin: SourceLocation

    /// Creates a source text.
    public init(_ text: String, origin: SourceLocation) {
        self.text = text
        self.origin = origin
    }

    /// A standalone text (an expression typed on the command line): its own pseudo-file.
    public init(standalone text: String, name: String = "<expr>") {
        self.text = text
        self.origin = SourceLocation(file: name, line: 1, column: 1)
    }

    /// Maps a 1-based (line, column) inside ``text`` to the location in the enclosing file.
    public func location(line: Int, column: Int) -> SourceLocation {
        if line <= 1 {
            return SourceLocation(file: origin.file, line: origin.line, column: origin.column + column - 1)
        }
        return SourceLocation(file: origin.file, line: origin.line + line - 1, column: column)
    }
}
