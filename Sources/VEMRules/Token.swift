/// The kinds of token the lexer produces.
enum TokenKind: Equatable, Sendable {
    case int(Int64)
    case float(Double)
    case string(String)
    case identifier(String)
    /// A reserved word: `and`, `or`, `not`, `in`, `if`, `else`, `for`, `lambda`, `None`, `True`, `False`.
    case keyword(String)
    /// An operator or punctuation mark, spelled as in the source (`+`, `//`, `(`, `==`, …).
    case punct(String)
    /// A statement separator: a new line outside brackets.
    case newline
    case eof
}

/// One token with its position inside the expression text (1-based line and column, in Unicode scalars).
struct Token: Sendable {
    var kind: TokenKind
    var line: Int
    var column: Int
    /// Length in Unicode scalars (for the caret underline).
    var length: Int

    func isPunct(_ p: String) -> Bool { kind == .punct(p) }
    func isKeyword(_ k: String) -> Bool { kind == .keyword(k) }

    /// How the token reads in a diagnostic.
    var display: String {
        switch kind {
        case .int(let v): "integer \(v)"
        case .float(let v): "float \(v)"
        case .string: "string"
        case .identifier(let n): "'\(n)'"
        case .keyword(let k): "'\(k)'"
        case .punct(let p): "'\(p)'"
        case .newline: "new line"
        case .eof: "end of expression"
        }
    }
}

/// Words with a meaning in the language.
let keywords: Set<String> = ["and", "or", "not", "in", "if", "else", "for", "lambda", "None", "True", "False"]

/// Starlark and Python words that are reserved but not part of the expression language.
let reservedWords: Set<String> = [
    "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "except", "finally",
    "from", "global", "import", "is", "nonlocal", "pass", "raise", "return", "try", "while", "with", "yield",
]
