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

    /// The diagnostics in file, line, column order (stable for equal positions). A note stays right
    /// after the diagnostic it follows, wherever the note itself points.
    ///
    /// - Parameter fileOrder: The rank of each file (files given to a command in order); files not in it
    ///   sort after the ranked ones, by name.
    public func sortedByLocation(fileOrder: [String: Int] = [:]) -> [Diagnostic] {
        var groups: [[Diagnostic]] = []
        for d in self {
            if d.severity == .note, !groups.isEmpty { groups[groups.count - 1].append(d) } else { groups.append([d]) }
        }
        func key(_ l: SourceLocation) -> (Int, String, Int, Int) {
            (fileOrder[l.file] ?? Int.max, l.file, l.line, l.column)
        }
        return groups.enumerated().sorted { a, b in
            let l = key(a.element[0].location), r = key(b.element[0].location)
            return l != r ? l < r : a.offset < b.offset
        }.flatMap(\.element)
    }
}
