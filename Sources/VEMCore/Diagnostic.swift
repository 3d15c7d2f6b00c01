/// How bad a diagnostic is.
public enum Severity: String, Sendable, Codable, Comparable {
    case note
    case warning
    case error

    private var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One problem found in an input: where, how bad, and what.
///
/// Parsers in VEM *collect* diagnostics instead of throwing on the first one, so that a
/// broken file is reported whole. Render them with ``DiagnosticRenderer``.
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Severity.
    public var severity: Severity
    /// Where the problem is.
    public var location: SourceLocation
    /// What is wrong, lower-case, no final period (`unknown key 'tick'; did you mean 'ticks'?`).
    public var message: String
    /// How many columns the caret underline spans (at least 1).
    public var length: Int

    /// Creates a diagnostic.
    public init(_ severity: Severity, at location: SourceLocation, _ message: String, length: Int = 1) {
        self.severity = severity
        self.location = location
        self.message = message
        self.length = max(1, length)
    }

    /// An error.
    public static func error(at location: SourceLocation, _ message: String, length: Int = 1) -> Diagnostic {
        Diagnostic(.error, at: location, message, length: length)
    }

    /// A warning.
    public static func warning(at location: SourceLocation, _ message: String, length: Int = 1) -> Diagnostic {
        Diagnostic(.warning, at: location, message, length: length)
    }

    /// `file:line:col: error: message` — one line, no source excerpt.
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

extension Array where Element == Diagnostic {
    /// True when any diagnostic is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// The diagnostics in file, line, column order (stable for equal positions).
    public func sortedByLocation() -> [Diagnostic] {
        enumerated().sorted { a, b in
            let l = a.element.location, r = b.element.location
            if l.file != r.file { return l.file < r.file }
            if l.line != r.line { return l.line < r.line }
            if l.column != r.column { return l.column < r.column }
            return a.offset < b.offset
        }.map(\.element)
    }
}
