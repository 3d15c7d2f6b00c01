/// Splits expression text into tokens.
///
/// New lines separate statements (in a `cmd`), except inside brackets, after a backslash, or in a
/// triple-quoted string; in a single `expr` they are plain white space. Indentation is not significant. Errors are collected, not thrown:
/// the lexer skips the offending character and carries on.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var column = 1
    private var bracketDepth = 0
    /// Whether new lines outside brackets separate statements (in a `cmd`) or are plain spaces (in an `expr`).
    private let newlinesSeparate: Bool
    /// Problems found, as (line, column, length, message).
    private(set) var errors: [(line: Int, column: Int, length: Int, message: String)] = []

    init(_ text: String, newlinesSeparate: Bool = true) {
        scalars = Array(text.unicodeScalars)
        self.newlinesSeparate = newlinesSeparate
    }

    /// Tokenizes the whole text; the last token is always `.eof`.
    mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = next()
            if token.kind == .newline, tokens.last.map({ $0.kind == .newline }) ?? true { continue }
            tokens.append(token)
            if token.kind == .eof { break }
        }
        return tokens
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let i = pos + offset
        return i < scalars.count ? scalars[i] : nil
    }

    private mutating func advance() {
        guard pos < scalars.count else { return }
        if scalars[pos] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        pos += 1
    }

    private mutating func error(_ message: String, line: Int, column: Int, length: Int = 1) {
        errors.append((line, column, length, message))
    }

    private mutating func next() -> Token {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\r" || c == "\u{0C}" {
                advance()
            } else if c == "#" {
                while let d = peek(), d != "\n" { advance() }
            } else if c == "\\" && peek(1) == "\n" {
                advance()
                advance()
            } else if c == "\n" {
                let l = line, col = column
                advance()
                if bracketDepth == 0 && newlinesSeparate { return Token(kind: .newline, line: l, column: col, length: 1) }
            } else {
                break
            }
        }
        let startLine = line, startColumn = column, start = pos
        func make(_ kind: TokenKind) -> Token {
            Token(kind: kind, line: startLine, column: startColumn, length: max(1, pos - start))
        }
        guard let c = peek() else { return make(.eof) }

        if c == "_" || c.properties.isAlphabetic {
            var name = ""
            while let d = peek(), d == "_" || d.properties.isAlphabetic || d.properties.numericType != nil {
                name.unicodeScalars.append(d)
                advance()
            }
            if (name == "r" || name == "R"), let q = peek(), q == "\"" || q == "'" {
                return make(.string(lexString(raw: true, line: startLine, column: startColumn)))
            }
            if keywords.contains(name) { return make(.keyword(name)) }
            if reservedWords.contains(name) {
                error("'\(name)' is reserved and not part of the expression language", line: startLine,
                      column: startColumn, length: name.unicodeScalars.count)
            }
            return make(.identifier(name))
        }
        if c.isASCIIDigit || (c == "." && (peek(1)?.isASCIIDigit ?? false)) {
            return make(lexNumber(line: startLine, column: startColumn))
        }
        if c == "\"" || c == "'" {
            return make(.string(lexString(raw: false, line: startLine, column: startColumn)))
        }
        for p in ["**", "//", "==", "!=", "<=", ">="] {
            let s = Array(p.unicodeScalars)
            if c == s[0], peek(1) == s[1] {
                advance()
                advance()
                return make(.punct(p))
            }
        }
        let single: Set<Unicode.Scalar> = ["+", "-", "*", "/", "%", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":",
                                           ".", ";", "="]
        if single.contains(c) {
            advance()
            switch c {
            case "(", "[", "{": bracketDepth += 1
            case ")", "]", "}": bracketDepth = max(0, bracketDepth - 1)
            default: break
            }
            return make(.punct(String(c)))
        }
        advance()
        error("unexpected character '\(c)'", line: startLine, column: startColumn)
        return next()
    }

    private mutating func lexNumber(line l: Int, column col: Int) -> TokenKind {
        var text = ""
        if peek() == "0", let x = peek(1), "xXoObB".unicodeScalars.contains(x) {
            advance()
            advance()
            let radix: Int64 = (x == "x" || x == "X") ? 16 : (x == "o" || x == "O") ? 8 : 2
            while let d = peek(), d.properties.isASCIIHexDigit || d == "_" {
                if d != "_" { text.unicodeScalars.append(d) }
                advance()
            }
            guard let v = Int64(text, radix: Int(radix)) else {
                error(text.isEmpty ? "invalid number literal" : "integer literal out of range or invalid",
                      line: l, column: col, length: pos - (pos - text.count - 2))
                return .int(0)
            }
            return .int(v)
        }
        var isFloat = false
        while let d = peek(), d.isASCIIDigit || d == "_" {
            if d != "_" { text.unicodeScalars.append(d) }
            advance()
        }
        if peek() == ".", !(peek(1).map { $0.properties.isAlphabetic || $0 == "_" } ?? false) {
            isFloat = true
            text.append(".")
            advance()
            while let d = peek(), d.isASCIIDigit || d == "_" {
                if d != "_" { text.unicodeScalars.append(d) }
                advance()
            }
        }
        if let e = peek(), e == "e" || e == "E" {
            let sign = peek(1)
            let hasSign = sign == "+" || sign == "-"
            if let d = peek(hasSign ? 2 : 1), d.isASCIIDigit {
                isFloat = true
                text.append("e")
                advance()
                if hasSign, let s = sign {
                    text.unicodeScalars.append(s)
                    advance()
                }
                while let d = peek(), d.isASCIIDigit {
                    text.unicodeScalars.append(d)
                    advance()
                }
            }
        }
        if isFloat {
            if text.hasPrefix(".") { text = "0" + text }
            if text.hasSuffix(".") { text += "0" }
            return .float(Double(text) ?? .nan)
        }
        if text.count > 1, text.hasPrefix("0"), text.contains(where: { $0 != "0" }) {
            error("invalid integer literal '\(text)' (leading zeros; use 0o for octal)", line: l, column: col,
                  length: text.count)
        }
        guard let v = Int64(text) else {
            error("integer literal \(text) does not fit in 64 bits", line: l, column: col, length: text.count)
            return .int(0)
        }
        return .int(v)
    }

    private mutating func lexString(raw: Bool, line l: Int, column col: Int) -> String {
        guard let quote = peek() else { return "" }
        let triple = peek(1) == quote && peek(2) == quote
        for _ in 0..<(triple ? 3 : 1) { advance() }
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek() else {
                error("unterminated string literal", line: l, column: col)
                return String(out)
            }
            if c == quote {
                if !triple {
                    advance()
                    return String(out)
                }
                if peek(1) == quote, peek(2) == quote {
                    advance()
                    advance()
                    advance()
                    return String(out)
                }
            }
            if c == "\n" && !triple {
                error("unterminated string literal", line: l, column: col)
                return String(out)
            }
            if c == "\\" {
                let el = line, ec = column
                advance()
                guard let e = peek() else { continue }
                if raw {
                    out.append("\\")
                    out.append(e)
                    advance()
                    continue
                }
                advance()
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "\\", "'", "\"": out.append(e)
                case "\n": break
                case "x", "u", "U":
                    let digits = e == "x" ? 2 : e == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<digits {
                        guard let h = peek(), h.properties.isASCIIHexDigit else { break }
                        hex.unicodeScalars.append(h)
                        advance()
                    }
                    if hex.count == digits, let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) {
                        out.append(s)
                    } else {
                        error("invalid escape sequence \\\(e)\(hex)", line: el, column: ec, length: 2 + hex.count)
                    }
                default:
                    error("invalid escape sequence \\\(e)", line: el, column: ec, length: 2)
                }
                continue
            }
            out.append(c)
            advance()
        }
    }
}

extension Unicode.Scalar {
    var isASCIIDigit: Bool { value >= 48 && value <= 57 }
}
