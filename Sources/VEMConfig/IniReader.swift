// The INI dialect read by VEM, in the spirit of Python's configparser.
//
//   file        = { line } ;
//   line        = blank | comment | header | entry | continuation ;
//   blank       = { ws } NL ;
//   comment     = { ws } ( "#" | ";" ) { any } NL ;            (full-line only; no inline comments)
//   header      = { ws } "[" { ws } name { ws } "]" { ws } NL ;
//   name        = [ prefix ":" ] word ;                           (meaning given by the loader)
//   entry       = { ws } key { ws } ( "=" | ":" ) { ws } value ;  (the first '=' or ':' splits)
//   key         = keychar { keychar } ;   keychar = letter | digit | "_" | "-" | "." ;
//   value       = braced | plain ;
//   plain       = { any } NL { continuation } ;
//   continuation = ws { ws } nonblank { any } NL ;               (only right after a plain value)
//   braced      = "{" { balanced } "}" { ws } NL ;               (may span lines)
//   balanced    = "{" { balanced } "}" | string | "#" { any } NL | any-but-braces ;
//   string      = "'" … "'" | '"' … '"' | "'''" … "'''" | '"""' … '"""' ;   (backslash escapes)
//   ws          = " " | TAB ;
//
// Keys are folded to lower case; section names are kept as written. A plain value is trimmed,
// and continuation lines are appended (trimmed) after a "\n". A blank line ends a plain value; a
// comment line does not. Inside braces, quoted strings and `#` comments are skipped when
// matching braces, so `{ "}" }` and `{ {"a": 1} }` work; a one-quote string ends at the end of
// its line at the latest. The text between the outer braces is kept verbatim.
//
// The reader never stops at the first mistake: it reports it and carries on with the next line.
// It is iterative and linear in the size of its input (no recursion, so nesting depth is free).
import VEMCore

/// Reads INI bytes into an ``IniDocument``, collecting every diagnostic.
public enum IniReader {
    /// Reads one file.
    ///
    /// - Parameters:
    ///   - bytes: The file's contents (UTF-8; a BOM and CRLF line ends are accepted).
    ///   - file: The name used in diagnostics.
    /// - Returns: The document, the diagnostics in line order, and the decoded text.
    public static func read(_ bytes: [UInt8], file: String) -> IniReadResult {
        let source = DecodedSource(file: file, bytes: bytes)
        var log = DiagnosticLog()
        let document = read(source, log: &log)
        return IniReadResult(document: document, diagnostics: log.sorted(), text: source.text)
    }

    /// Reads a decoded file, adding diagnostics (including UTF-8 errors) to `log`.
    static func read(_ source: DecodedSource, log: inout DiagnosticLog) -> IniDocument {
        for d in source.diagnostics { log.add(d) }
        var parser = LineParser(source: source)
        parser.run()
        log.append(parser.log)
        return IniDocument(file: source.file, sections: parser.sections)
    }
}

/// The state of one pass over the lines of a file.
private struct LineParser {
    let source: DecodedSource
    var log = DiagnosticLog()
    var sections: [IniSection] = []
    /// Index in `sections` of the section being filled; nil before any header or after a broken one.
    var current: Int?
    /// True after a broken header: keys are checked but not stored, and not reported as orphans.
    var skipping = false
    /// The entry whose plain value may still take continuation lines.
    var open: (section: Int, entry: Int)?
    /// First location of each key of the current section, for duplicate detection.
    var seenKeys: [String: SourceLocation] = [:]
    /// Set once a braced value found no closing brace before the end of the file.
    var braceRanToEnd = false

    init(source: DecodedSource) { self.source = source }

    private var s: [Unicode.Scalar] { source.scalars }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }

    static func isKeyChar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".": true
        default: false
        }
    }

    /// Trims spaces and tabs from both ends of a range of scalars.
    func trim(_ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound, hi = range.upperBound
        while lo < hi, Self.isSpace(s[lo]) { lo += 1 }
        while hi > lo, Self.isSpace(s[hi - 1]) { hi -= 1 }
        return lo..<hi
    }

    mutating func run() {
        var line = 0
        while line < source.lineCount {
            line = parseLine(line)
        }
    }

    /// Parses the line with 0-based index `line`; returns the index of the next line to parse.
    mutating func parseLine(_ line: Int) -> Int {
        let range = source.lineRange(line)
        let content = trim(range)
        if content.isEmpty {
            open = nil
            return line + 1
        }
        let first = s[content.lowerBound]
        if first == "#" || first == ";" { return line + 1 }
        if content.lowerBound > range.lowerBound, let open {
            appendContinuation(content, to: open)
            return line + 1
        }
        open = nil
        if first == "[" {
            parseHeader(line: line, content: content)
            return line + 1
        }
        return parseEntry(line: line, content: content)
    }

    mutating func appendContinuation(_ content: Range<Int>, to open: (section: Int, entry: Int)) {
        let text = source.string(content)
        if sections[open.section].entries[open.entry].value.text.isEmpty {
            sections[open.section].entries[open.entry].value.text = text
        } else {
            sections[open.section].entries[open.entry].value.text += "\n" + text
        }
    }

    mutating func parseHeader(line: Int, content: Range<Int>) {
        let open = content.lowerBound
        let at = source.location(line: line, position: open)
        guard let close = s[content].firstIndex(of: "]") else {
            log.error(at, "expected ']' to close the section header", length: content.count)
            beginSkipping()
            return
        }
        if close + 1 < content.upperBound {
            log.error(
                source.location(line: line, position: close + 1),
                "unexpected text after the section header"
                    + (s[trim(close + 1..<content.upperBound).lowerBound] == "#"
                        || s[trim(close + 1..<content.upperBound).lowerBound] == ";"
                        ? " (comments must be on a line of their own)" : ""),
                length: content.upperBound - close - 1)
            beginSkipping()
            return
        }
        let nameRange = trim(open + 1..<close)
        if nameRange.isEmpty {
            log.error(at, "empty section name", length: content.count)
            beginSkipping()
            return
        }
        sections.append(
            IniSection(
                name: source.string(nameRange), location: at,
                nameLocation: source.location(line: line, position: nameRange.lowerBound),
                headerLength: content.count))
        current = sections.count - 1
        skipping = false
        seenKeys = [:]
    }

    mutating func beginSkipping() {
        current = nil
        skipping = true
        seenKeys = [:]
    }

    mutating func parseEntry(line: Int, content: Range<Int>) -> Int {
        guard let delimiter = s[content].firstIndex(where: { $0 == "=" || $0 == ":" }) else {
            log.error(
                source.location(line: line, position: content.lowerBound),
                "expected 'key = value', a '[section]' header or a comment", length: content.count)
            return line + 1
        }
        let keyRange = trim(content.lowerBound..<delimiter)
        let keyLocation = source.location(line: line, position: keyRange.lowerBound)
        var keyIsValid = true
        if keyRange.isEmpty {
            log.error(
                source.location(line: line, position: delimiter), "missing key before '\(s[delimiter])'")
            keyIsValid = false
        } else if let bad = s[keyRange].firstIndex(where: { !Self.isKeyChar($0) }) {
            let shown = s[bad] == " " || s[bad] == "\t" ? "a space" : "'\(s[bad])'"
            log.error(
                source.location(line: line, position: bad),
                "invalid key \(quoted(source.string(keyRange))): keys may not contain \(shown)")
            keyIsValid = false
        }
        let valueRange = trim(delimiter + 1..<content.upperBound)
        var next = line + 1
        let value: IniValue
        var isPlain = true
        if !valueRange.isEmpty, s[valueRange.lowerBound] == "{" {
            isPlain = false
            if let (braced, after) = parseBraced(line: line, open: valueRange.lowerBound) {
                value = braced
                next = after
            } else {
                // Keep the key, with the text up to where reading resumes, so that the loader
                // does not also call it missing or empty.
                next = recoverAfterUnterminatedBrace(line)
                let start = valueRange.lowerBound + 1
                let end = next < source.lineCount ? max(start, source.lineStarts[next] - 1) : s.count
                value = IniValue(
                    text: source.string(start..<end), location: source.location(line: line, position: start),
                    isBraced: true, length: valueRange.upperBound - start)
            }
        } else {
            let text = source.string(valueRange)
            let start = valueRange.isEmpty ? delimiter + 1 : valueRange.lowerBound
            let location = source.location(line: line, position: start)
            value = IniValue(text: text, location: location, isBraced: false, length: valueRange.count)
        }
        guard keyIsValid else { return next }
        let key = source.string(keyRange).lowercased()
        guard let section = current else {
            if !skipping {
                log.error(keyLocation, "key '\(key)' is outside of any section; add a '[section]' header above it",
                          length: keyRange.count)
            }
            return next
        }
        if let first = seenKeys[key] {
            log.error(
                keyLocation, "duplicate key '\(key)' in section [\(sections[section].name)]", length: keyRange.count,
                notes: [Diagnostic(.note, at: first, "'\(key)' was first set here")])
            return next
        }
        seenKeys[key] = keyLocation
        sections[section].entries.append(IniEntry(key: key, keyLocation: keyLocation, value: value))
        if isPlain { open = (section, sections[section].entries.count - 1) }
        return next
    }

    /// Scans a braced value starting at the `{` at `open`. Returns the value and the next line
    /// to parse, or nil (after reporting) when the brace is never closed.
    mutating func parseBraced(line: Int, open: Int) -> (IniValue, Int)? {
        // After one brace ran to the end of the file, later braces may only extend to where reading
        // would resume anyway; without this, a file of many unclosed braces would cost O(n²).
        var count = s.count
        if braceRanToEnd {
            let stop = recoverAfterUnterminatedBrace(line)
            count = stop < source.lineCount ? source.lineStarts[stop] : s.count
        }
        var depth = 1
        var i = open + 1
        var close: Int?
        var unclosedString: Int?
        scan: while i < count {
            let c = s[i]
            switch c {
            case "{":
                depth += 1
            case "}":
                depth -= 1
                if depth == 0 {
                    close = i
                    break scan
                }
            case "#":
                while i < count, s[i] != "\n" { i += 1 }
                continue scan
            case "'", "\"":
                let end = min(skipString(from: i, quote: c, limit: count), count)
                if unclosedString == nil, end < count, s[end] == "\n", s[end - 1] != c || end - i < 2 {
                    unclosedString = i
                }
                i = end
                continue scan
            default:
                break
            }
            i += 1
        }
        let openLocation = source.location(line: line, position: open)
        guard let close else {
            braceRanToEnd = true
            var notes: [Diagnostic] = []
            if let unclosedString {
                notes.append(
                    Diagnostic(.note, at: source.location(of: unclosedString), "this string is not closed on its line"))
            }
            let end = count == s.count ? "the end of the file" : "the next section or key"
            log.error(openLocation, "unterminated '{': no matching '}' before \(end)", notes: notes)
            return nil
        }
        let closeLine = source.lineIndex(of: close)
        let rest = trim(close + 1..<source.lineRange(closeLine).upperBound)
        if !rest.isEmpty {
            log.error(
                source.location(line: closeLine, position: rest.lowerBound), "unexpected text after the closing '}'",
                length: rest.count)
        }
        let firstLineEnd = min(close, source.lineRange(line).upperBound)
        let value = IniValue(
            text: source.string(open + 1..<close), location: source.location(line: line, position: open + 1),
            isBraced: true, length: firstLineEnd - open - 1)
        return (value, closeLine + 1)
    }

    /// Skips a quoted string starting at `start`; returns the index just after it.
    /// A one-quote string ends at the end of its line at the latest.
    func skipString(from start: Int, quote: Unicode.Scalar, limit count: Int) -> Int {
        let triple = start + 2 < count && s[start + 1] == quote && s[start + 2] == quote
        var i = start + (triple ? 3 : 1)
        while i < count {
            let c = s[i]
            if c == "\\" {
                if i + 1 < count, s[i + 1] == "\n", !triple { return i + 1 }
                i += 2
                continue
            }
            if c == "\n", !triple { return i }
            if c == quote {
                if !triple { return i + 1 }
                if i + 2 < count, s[i + 1] == quote, s[i + 2] == quote { return i + 3 }
            }
            i += 1
        }
        return count
    }

    /// After an unterminated brace, resumes at the next line that starts in column 1 with a
    /// section header or a `key =` / `key:` (a braced value's own lines are, by convention,
    /// indented), so that one forgotten `}` does not hide the rest of the file.
    mutating func recoverAfterUnterminatedBrace(_ line: Int) -> Int {
        var next = line + 1
        while next < source.lineCount {
            let range = source.lineRange(next)
            if !range.isEmpty {
                let first = s[range.lowerBound]
                if first == "[" { break }
                if Self.isKeyChar(first) {
                    var i = range.lowerBound
                    while i < range.upperBound, Self.isKeyChar(s[i]) { i += 1 }
                    while i < range.upperBound, Self.isSpace(s[i]) { i += 1 }
                    if i < range.upperBound, s[i] == "=" || s[i] == ":" { break }
                }
            }
            next += 1
        }
        return next
    }
}
