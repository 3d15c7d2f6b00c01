import VEMCore

/// The one error of the rule language: a syntax error, an unknown name, a runtime error, or a limit reached.
public struct RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is; extensible.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `type`.
        public var rawValue: String
        /// Creates a code.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The text is not valid syntax.
        public static let syntax = Code(rawValue: "syntax")
        /// A name that is neither a local, a known global nor a builtin.
        public static let undefinedName = Code(rawValue: "undefined-name")
        /// A value of the wrong type for an operation.
        public static let type = Code(rawValue: "type")
        /// A value of the right type but an unacceptable value.
        public static let value = Code(rawValue: "value")
        /// Division or modulo by zero.
        public static let zeroDivision = Code(rawValue: "zero-division")
        /// An integer result that does not fit in 64 bits.
        public static let overflow = Code(rawValue: "overflow")
        /// An index out of range.
        public static let index = Code(rawValue: "index")
        /// A missing dict key.
        public static let key = Code(rawValue: "key")
        /// A missing attribute.
        public static let attribute = Code(rawValue: "attribute")
        /// The step budget of one evaluation ran out.
        public static let budget = Code(rawValue: "budget")
        /// A size or depth limit was reached.
        public static let limit = Code(rawValue: "limit")
        /// A function called itself (directly or not): not allowed.
        public static let recursion = Code(rawValue: "recursion")
        /// A host object or host function failed.
        public static let host = Code(rawValue: "host")
        /// The code's name.
        public var description: String { rawValue }
    }

    /// What kind of problem.
    public var code: Code
    /// Lower-case, no final period (`unsupported operand types for +: 'int' and 'str'`).
    public var message: String
    /// Where in the enclosing file, when known.
    public var location: SourceLocation?
    /// How many columns the caret underline spans.
    public var length: Int

    /// Creates an error.
    public init(_ code: Code, _ message: String, at location: SourceLocation? = nil, length: Int = 1) {
        self.code = code
        self.message = message
        self.location = location
        self.length = max(1, length)
    }

    /// The error as a diagnostic (at `<unknown>:0:0` when it has no location).
    public var diagnostic: Diagnostic {
        .error(at: location ?? SourceLocation(file: "<unknown>", line: 0, column: 0), message, length: length)
    }

    /// `file:line:col: error: message`, or just the message without a location.
    public var description: String {
        guard let location else { return "error: \(message)" }
        return "\(location): error: \(message)"
    }
}

/// The result of compiling: every problem found, and the program when there was none.
public struct CompileError: Error, Sendable, CustomStringConvertible {
    /// All diagnostics, in source order; at least one is an error.
    public var diagnostics: [Diagnostic]

    /// Creates the error.
    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    /// One line per diagnostic.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
