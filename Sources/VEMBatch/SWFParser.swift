import VEMCore

/// A streaming, byte-level parser of Standard Workload Format text.
///
/// Grammar (one line at a time; a line ends at `\n`, a `\r` before it is ignored):
///
/// ```
/// line    := blank | comment | data
/// blank   := ws*
/// comment := ws* ';' ws* (key ws* ':' ws* value | note)     key := [A-Za-z0-9_]+
/// data    := ws* number (ws+ number){17} ws*                 exactly 18 numbers
/// number  := ['-'|'+'] digit* ['.' digit*]                   at least one digit
/// ws      := ' ' | '\t' | '\r'
/// ```
///
/// A data line that does not match (a word, too few or too many fields, a number of more than 18 digits) is
/// *skipped*: it is counted in ``SWFTrace/badLineCount`` and the first ``maxDiagnostics`` of them are kept as
/// warnings pointing at the line and column (`trace.swf:12:9: warning: field 3 is not a number: 'x'`).
/// The parser never fails and never crashes on any input.
///
/// Bytes are parsed in place, with no `String` made per data line, so a 188,000-job trace parses in tens of
/// milliseconds. Feed bytes in chunks of any size with ``consume(_:)`` (lines may span chunks), then call
/// ``finish()``.
public struct SWFParser: Sendable {
    /// How many bad-line warnings are kept (all bad lines are counted).
    public static let maxDiagnostics = 100

    private var trace: SWFTrace
    private var carry: [UInt8] = []
    private var line = 0

    /// Creates a parser.
    ///
    /// - Parameter name: The file name used in diagnostics.
    public init(name: String) {
        trace = SWFTrace(name: name)
    }

    /// Parses the complete lines in `bytes`, keeping an incomplete last line for the next call.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        var start = 0
        let n = bytes.count
        var i = 0
        while i < n {
            if bytes[i] != 0x0A {
                i += 1
                continue
            }
            if carry.isEmpty {
                parseLine(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            } else {
                carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
                let pending = carry
                carry.removeAll(keepingCapacity: true)
                pending.withUnsafeBytes { parseLine($0) }
            }
            i += 1
            start = i
        }
        if start < n { carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<n])) }
    }

    /// Parses the complete lines of a byte array (see ``consume(_:)``).
    public mutating func consume(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { consume($0) }
    }

    /// Parses what is left (a last line without a final newline) and returns the trace.
    public mutating func finish() -> SWFTrace {
        if !carry.isEmpty {
            let pending = carry
            carry.removeAll()
            pending.withUnsafeBytes { parseLine($0) }
        }
        trace.lineCount = line
        return trace
    }

    // MARK: - Lines

    @inline(__always)
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    private mutating func parseLine(_ p: UnsafeRawBufferPointer) {
        line += 1
        let n = p.count
        var i = 0
        while i < n && Self.isSpace(p[i]) { i += 1 }
        if i == n { return }
        if p[i] == UInt8(ascii: ";") {
            parseComment(UnsafeRawBufferPointer(rebasing: p[(i + 1)...]))
            return
        }
        var job = SWFJob(jobNumber: -1, submitTime: -1, runTime: -1)
        var field = 0
        while true {
            while i < n && Self.isSpace(p[i]) { i += 1 }
            if i >= n { break }
            let tokenStart = i
            if field == 18 {
                bad("more than 18 fields", column: tokenStart + 1)
                return
            }
            var negative = false
            if p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+") {
                negative = p[i] == UInt8(ascii: "-")
                i += 1
            }
            var value = 0
            var digits = 0
            while i < n {
                let d = p[i] &- 0x30
                if d > 9 { break }
                value = value &* 10 &+ Int(d)
                digits += 1
                i += 1
            }
            var fraction = 0.0
            var fractionDigits = 0
            if i < n && p[i] == UInt8(ascii: ".") {
                i += 1
                var numerator = 0
                var denominator = 1
                while i < n {
                    let d = p[i] &- 0x30
                    if d > 9 { break }
                    if denominator < 1_000_000_000_000_000 {
                        numerator = numerator * 10 + Int(d)
                        denominator *= 10
                    }
                    fractionDigits += 1
                    i += 1
                }
                fraction = Double(numerator) / Double(denominator)
            }
            if digits + fractionDigits == 0 || (i < n && !Self.isSpace(p[i])) {
                while i < n && !Self.isSpace(p[i]) { i += 1 }
                let token = String(
                    decoding: UnsafeRawBufferPointer(rebasing: p[tokenStart..<min(i, tokenStart + 40)]), as: UTF8.self)
                bad("field \(field + 1) is not a number: '\(token)'", column: tokenStart + 1, length: i - tokenStart)
                return
            }
            if digits > 18 {
                bad("field \(field + 1) is too large", column: tokenStart + 1, length: i - tokenStart)
                return
            }
            if negative { value = -value }
            switch field {
            case 0: job.jobNumber = value
            case 1: job.submitTime = value
            case 2: job.waitTime = value
            case 3: job.runTime = value
            case 4: job.allocatedProcessors = value
            case 5: job.averageCPUTime = negative ? Double(value) - fraction : Double(value) + fraction
            case 6: job.usedMemory = negative ? Double(value) - fraction : Double(value) + fraction
            case 7: job.requestedProcessors = value
            case 8: job.requestedTime = value
            case 9: job.requestedMemory = value
            case 10: job.status = value
            case 11: job.userID = value
            case 12: job.groupID = value
            case 13: job.executableID = value
            case 14: job.queueID = value
            case 15: job.partitionID = value
            case 16: job.precedingJob = value
            default: job.thinkTime = value
            }
            field += 1
        }
        guard field == 18 else {
            bad("expected 18 fields, found \(field)", column: i + 1)
            return
        }
        trace.jobs.append(job)
    }

    private mutating func parseComment(_ p: UnsafeRawBufferPointer) {
        let text = String(decoding: p, as: UTF8.self)
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { return }
        if let colon = trimmed.firstIndex(of: ":") {
            let key = trimmed[..<colon].trimmingSpaces()
            if !key.isEmpty,
                key.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" })
            {
                let value = trimmed[trimmed.index(after: colon)...].trimmingSpaces()
                trace.header.fields.append(SWFHeaderField(key: String(key), value: String(value), line: line))
                return
            }
        }
        trace.header.notes.append(String(trimmed))
    }

    private mutating func bad(_ message: String, column: Int, length: Int = 1) {
        trace.badLineCount += 1
        guard trace.diagnostics.count < Self.maxDiagnostics else { return }
        let at = SourceLocation(file: trace.name, line: line, column: column)
        trace.diagnostics.append(.warning(at: at, message + "; line skipped", length: length))
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> Substring {
        let s = Substring(self)
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = s.firstIndex(where: { !isSpace($0) }) else { return s[s.endIndex...] }
        guard let last = s.lastIndex(where: { !isSpace($0) }) else { return s[s.endIndex...] }
        return s[first...last]
    }
}
