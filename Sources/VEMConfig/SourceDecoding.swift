import VEMCore

/// A configuration file decoded from bytes into Unicode scalars, with its line table.
///
/// Decoding is strict UTF-8: every invalid byte sequence is replaced by U+FFFD and reported
/// (once per line) at the line and column where the replacement character stands. A leading
/// UTF-8 byte-order mark is dropped, and every CR that precedes an LF is removed, so that
/// columns and the text shown by the renderer agree with each other.
struct DecodedSource {
    /// The file name used in diagnostics.
    let file: String
    /// The decoded text, one element per Unicode scalar.
    private(set) var scalars: [Unicode.Scalar] = []
    /// Index in ``scalars`` of the first scalar of each line.
    private(set) var lineStarts: [Int] = [0]
    /// UTF-8 errors found while decoding.
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String, bytes: [UInt8]) {
        self.file = file
        scalars.reserveCapacity(bytes.count)
        decode(bytes)
    }

    /// Number of lines (a file ending with a new line has an empty last line).
    var lineCount: Int { lineStarts.count }

    /// The half-open range of scalars of a 0-based line, without its line feed.
    func lineRange(_ index: Int) -> Range<Int> {
        let start = lineStarts[index]
        let end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : scalars.count
        return start..<end
    }

    /// The 0-based line holding a scalar index (binary search, so it stays cheap on huge files).
    func lineIndex(of position: Int) -> Int {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= position { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// The location of a scalar index.
    func location(of position: Int) -> SourceLocation {
        let line = lineIndex(of: position)
        return SourceLocation(file: file, line: line + 1, column: position - lineStarts[line] + 1)
    }

    /// The location of a column in a 0-based line.
    func location(line: Int, position: Int) -> SourceLocation {
        SourceLocation(file: file, line: line + 1, column: position - lineStarts[line] + 1)
    }

    /// The text of a range of scalars.
    func string(_ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[range])
        return String(view)
    }

    /// The whole decoded text, as the renderer should quote it.
    var text: String { string(0..<scalars.count) }

    private mutating func decode(_ bytes: [UInt8]) {
        let count = bytes.count
        var i = 0
        if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
        var lastErrorLine = -1
        while i < count {
            let b0 = bytes[i]
            if b0 < 0x80 {
                if b0 == 0x0D, i + 1 < count, bytes[i + 1] == 0x0A {
                    i += 1
                    continue
                }
                scalars.append(Unicode.Scalar(b0))
                if b0 == 0x0A { lineStarts.append(scalars.count) }
                i += 1
                continue
            }
            let (need, low, high) = Self.sequenceShape(b0)
            var valid = 0
            if need > 0 {
                while valid < need, i + 1 + valid < count {
                    let b = bytes[i + 1 + valid]
                    let (lo, hi): (UInt8, UInt8) = valid == 0 ? (low, high) : (0x80, 0xBF)
                    guard b >= lo, b <= hi else { break }
                    valid += 1
                }
            }
            if need > 0, valid == need {
                var value = UInt32(b0) & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07)
                for k in 1...need { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                i += need + 1
                continue
            }
            let line = lineStarts.count - 1
            if line != lastErrorLine {
                lastErrorLine = line
                let location = SourceLocation(
                    file: file, line: line + 1, column: scalars.count - lineStarts[line] + 1)
                let hex = String(b0, radix: 16, uppercase: true)
                let message = "invalid UTF-8 byte 0x\(hex.count < 2 ? "0" : "")\(hex); the file must be UTF-8"
                diagnostics.append(.error(at: location, message))
            }
            scalars.append("\u{FFFD}")
            i += 1 + valid
        }
    }

    /// For a lead byte: how many continuation bytes follow, and the allowed range of the first one.
    private static func sequenceShape(_ b0: UInt8) -> (Int, UInt8, UInt8) {
        switch b0 {
        case 0xC2...0xDF: (1, 0x80, 0xBF)
        case 0xE0: (2, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (2, 0x80, 0xBF)
        case 0xED: (2, 0x80, 0x9F)
        case 0xF0: (3, 0x90, 0xBF)
        case 0xF1...0xF3: (3, 0x80, 0xBF)
        case 0xF4: (3, 0x80, 0x8F)
        default: (0, 0, 0)
        }
    }
}

/// Diagnostics grouped so that a primary diagnostic keeps its notes next to it when sorted.
struct DiagnosticLog {
    private(set) var units: [[Diagnostic]] = []

    /// True when an error was logged.
    private(set) var hasErrors = false

    mutating func add(_ diagnostic: Diagnostic, notes: [Diagnostic] = []) {
        if diagnostic.severity == .error { hasErrors = true }
        units.append([diagnostic] + notes)
    }

    mutating func error(_ location: SourceLocation, _ message: String, length: Int = 1, notes: [Diagnostic] = []) {
        add(.error(at: location, message, length: length), notes: notes)
    }

    mutating func warning(_ location: SourceLocation, _ message: String, length: Int = 1) {
        add(.warning(at: location, message, length: length))
    }

    mutating func append(_ other: DiagnosticLog) {
        units.append(contentsOf: other.units)
        hasErrors = hasErrors || other.hasErrors
    }

    /// Flattens the log: units ordered by file (in the given order), line and column of their primary.
    func sorted(fileOrder: [String: Int] = [:]) -> [Diagnostic] {
        units.enumerated().sorted { a, b in
            let l = a.element[0].location, r = b.element[0].location
            let lf = fileOrder[l.file] ?? Int.max, rf = fileOrder[r.file] ?? Int.max
            if lf != rf { return lf < rf }
            if l.file != r.file { return l.file < r.file }
            if l.line != r.line { return l.line < r.line }
            if l.column != r.column { return l.column < r.column }
            return a.offset < b.offset
        }.flatMap(\.element)
    }
}

/// Shortens a user-supplied text for quoting in a message: one line, at most 40 characters.
func quoted(_ text: String) -> String {
    var line = text.prefix { $0 != "\n" }
    var cut = line.count < text.count
    if line.count > 40 {
        line = line.prefix(40)
        cut = true
    }
    return "'" + line + (cut ? "…" : "") + "'"
}
