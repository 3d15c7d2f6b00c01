import VEMCore

/// One INI file as read, before any meaning is given to its sections: sections in file order,
/// each with its entries in file order, every piece carrying its location.
public struct IniDocument: Hashable, Sendable, Codable {
    /// The file name used in locations.
    public var file: String
    /// The sections, in the order they appear (duplicates are kept and reported by the loader).
    public var sections: [IniSection]

    /// Creates a document.
    public init(file: String, sections: [IniSection] = []) {
        self.file = file
        self.sections = sections
    }
}

/// A `[name]` section and its entries.
public struct IniSection: Hashable, Sendable, Codable {
    /// The name between the brackets, trimmed (`ram_free`, `group:atlas`).
    public var name: String
    /// Location of the opening `[`.
    public var location: SourceLocation
    /// Location of the first character of the name.
    public var nameLocation: SourceLocation
    /// Length of the header in columns, from `[` to `]` inclusive (for carets).
    public var headerLength: Int
    /// The entries, in file order. Duplicate keys are reported by the reader; only the first is kept.
    public var entries: [IniEntry]

    /// Creates a section.
    public init(
        name: String, location: SourceLocation, nameLocation: SourceLocation, headerLength: Int,
        entries: [IniEntry] = []
    ) {
        self.name = name
        self.location = location
        self.nameLocation = nameLocation
        self.headerLength = headerLength
        self.entries = entries
    }

    /// The entry for a key (keys are lower-case), if present.
    public func entry(_ key: String) -> IniEntry? {
        entries.first { $0.key == key }
    }
}

/// A `key = value` (or `key: value`) line, with continuation lines or a braced value.
public struct IniEntry: Hashable, Sendable, Codable {
    /// The key, folded to lower case (keys are case-insensitive, as in Python's configparser).
    public var key: String
    /// Location of the key's first character.
    public var keyLocation: SourceLocation
    /// The value.
    public var value: IniValue

    /// Creates an entry.
    public init(key: String, keyLocation: SourceLocation, value: IniValue) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}

/// The value of an entry.
///
/// A plain value is the text after the delimiter, trimmed, with indented continuation lines
/// appended after a new line (each trimmed). A braced value `{ … }` is the text strictly
/// between the braces, verbatim (indentation and new lines kept).
public struct IniValue: Hashable, Sendable, Codable {
    /// The value's text.
    public var text: String
    /// Location of the first character of ``text`` (for a braced value: just after the `{`).
    public var location: SourceLocation
    /// Whether the value was written in braces.
    public var isBraced: Bool
    /// Length in columns of the value's first line (at least 1), for carets.
    public var length: Int

    /// Creates a value.
    public init(text: String, location: SourceLocation, isBraced: Bool, length: Int) {
        self.text = text
        self.location = location
        self.isBraced = isBraced
        self.length = max(1, length)
    }

    /// The value as a ``SourceText`` whose positions map back into the file.
    public var sourceText: SourceText { SourceText(text, origin: location) }
}

/// What ``IniReader`` returns: the document and every diagnostic found while reading it.
public struct IniReadResult: Sendable {
    /// The document (possibly partial when there were errors).
    public var document: IniDocument
    /// Diagnostics in line order (notes follow the diagnostic they explain).
    public var diagnostics: [Diagnostic]
    /// The decoded text of the file, as a ``DiagnosticRenderer`` should quote it.
    public var text: String
}
