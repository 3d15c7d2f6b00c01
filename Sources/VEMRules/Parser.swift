// The grammar of the trigger language (a subset of Starlark expressions):
//
//   program     = {sep} [test {sep {sep} test}] {sep} EOF          sep = NEWLINE | ';'
//   test        = lambda | ifexpr
//   lambda      = 'lambda' [param {',' param}] ':' test              param = IDENT ['=' test]
//   ifexpr      = or ['if' or 'else' test]
//   or          = and {'or' and}
//   and         = not {'and' not}
//   not         = 'not' not | comparison
//   comparison  = arith {compop arith}                              (chained: a < b < c)
//   compop      = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in'
//   arith       = term {('+' | '-') term}
//   term        = unary {('*' | '/' | '//' | '%') unary}
//   unary       = ('-' | '+') unary | power
//   power       = primary ['**' unary]
//   primary     = operand {'.' IDENT | '[' subscript ']' | '(' [args] ')'}
//   subscript   = test | [test] ':' [test] [':' [test]]
//   args        = test comprehension                               (a generator, sole argument)
//               | arg {',' arg} [',']                              arg = [IDENT '='] test
//   operand     = IDENT | INT | FLOAT | STRING | 'None' | 'True' | 'False'
//               | '(' [test {',' test} [',']] ')'                  (a tuple when a comma is present)
//               | '[' [test (comprehension | {',' test} [','])] ']'
//               | '{' [entry (comprehension | {',' entry} [','])] '}'    entry = test ':' test
//   comprehension = 'for' targets 'in' or {'for' targets 'in' or | 'if' or}
//   targets     = IDENT {',' IDENT} [','] | '(' IDENT {',' IDENT} [','] ')'
//
// Nesting is capped (Limits.maxNesting): every recursive descent and every link of a left-deep
// chain (`1+1+…`, `a.b.c…`) counts, so compiling and evaluating the tree cannot exhaust the stack.

/// A syntax error found by the parser, before mapping into the enclosing file.
struct SyntaxIssue: Error {
    var pos: Pos
    var message: String
}

/// Recursive-descent parser producing ``Expr`` trees; one statement's error does not stop the next.
struct Parser {
    private var tokens: [Token]
    private var index = 0
    private var depth = 0
    private let maxDepth: Int
    /// Errors collected so far.
    private(set) var issues: [SyntaxIssue] = []

    init(tokens: [Token], maxDepth: Int) {
        self.tokens = tokens
        self.maxDepth = maxDepth
    }

    private var current: Token { tokens[min(index, tokens.count - 1)] }
    private var nextToken: Token { tokens[min(index + 1, tokens.count - 1)] }

    private mutating func advance() -> Token {
        let t = current
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    private func isSeparator(_ t: Token) -> Bool { t.kind == .newline || t.isPunct(";") }

    private mutating func expect(_ p: String, _ context: String) throws(SyntaxIssue) -> Token {
        guard current.isPunct(p) else {
            throw SyntaxIssue(pos: Pos(current), message: "expected '\(p)' \(context), found \(current.display)")
        }
        return advance()
    }

    private mutating func enter() throws(SyntaxIssue) {
        depth += 1
        if depth > maxDepth {
            throw SyntaxIssue(pos: Pos(current), message: "expression nested too deeply (limit \(maxDepth))")
        }
    }

    /// Parses statements separated by `;` or new lines. Returns the ones that parsed.
    mutating func parseProgram() -> [Expr] {
        var statements: [Expr] = []
        while true {
            while isSeparator(current) { _ = advance() }
            if current.kind == .eof { break }
            depth = 0
            do throws(SyntaxIssue) {
                let e = try test()
                if !isSeparator(current) && current.kind != .eof {
                    throw SyntaxIssue(pos: Pos(current), message: "unexpected \(current.display)")
                }
                statements.append(e)
            } catch {
                issues.append(error)
                // Recover at the next statement separator outside brackets.
                var brackets = 0
                while current.kind != .eof {
                    if brackets == 0 && isSeparator(current) { break }
                    if case .punct(let p) = current.kind {
                        if "([{".contains(p) { brackets += 1 } else if ")]}".contains(p) { brackets -= 1 }
                    }
                    _ = advance()
                }
            }
        }
        return statements
    }

    private mutating func test() throws(SyntaxIssue) -> Expr {
        try enter()
        defer { depth -= 1 }
        if current.isKeyword("lambda") { return try lambda() }
        let body = try orExpr()
        if current.isKeyword("if") {
            let p = Pos(advance())
            let cond = try orExpr()
            guard current.isKeyword("else") else {
                throw SyntaxIssue(pos: Pos(current), message: "expected 'else' in conditional expression, found \(current.display)")
            }
            _ = advance()
            let orElse = try test()
            return .conditional(then: body, cond: cond, orElse: orElse, p)
        }
        return body
    }

    private mutating func lambda() throws(SyntaxIssue) -> Expr {
        let p = Pos(advance())
        var params: [Param] = []
        while !current.isPunct(":") {
            guard case .identifier(let name) = current.kind else {
                throw SyntaxIssue(pos: Pos(current), message: "expected a parameter name, found \(current.display)")
            }
            let pp = Pos(advance())
            if params.contains(where: { $0.name == name }) {
                throw SyntaxIssue(pos: pp, message: "duplicate parameter '\(name)'")
            }
            var def: Expr?
            if current.isPunct("=") {
                _ = advance()
                def = try test()
            }
            params.append(Param(name: name, defaultValue: def, pos: pp))
            if !current.isPunct(",") { break }
            _ = advance()
        }
        _ = try expect(":", "after lambda parameters")
        return .lambda(params: params, body: try test(), p)
    }

    private mutating func binaryChain(_ ops: Set<String>, keyword: Bool,
                                      _ operand: (inout Parser) throws(SyntaxIssue) -> Expr) throws(SyntaxIssue) -> Expr {
        var lhs = try operand(&self)
        let saved = depth
        defer { depth = saved }
        while true {
            let op: String
            switch current.kind {
            case .punct(let p) where !keyword && ops.contains(p): op = p
            case .keyword(let k) where keyword && ops.contains(k): op = k
            default: return lhs
            }
            let p = Pos(advance())
            try enter()
            lhs = .binary(op, lhs, try operand(&self), p)
        }
    }

    private mutating func orExpr() throws(SyntaxIssue) -> Expr {
        try binaryChain(["or"], keyword: true) { (p: inout Parser) throws(SyntaxIssue) in try p.andExpr() }
    }

    private mutating func andExpr() throws(SyntaxIssue) -> Expr {
        try binaryChain(["and"], keyword: true) { (p: inout Parser) throws(SyntaxIssue) in try p.notExpr() }
    }

    private mutating func notExpr() throws(SyntaxIssue) -> Expr {
        if current.isKeyword("not") {
            let p = Pos(advance())
            try enter()
            defer { depth -= 1 }
            return .unary("not", try notExpr(), p)
        }
        return try comparison()
    }

    private mutating func comparison() throws(SyntaxIssue) -> Expr {
        let first = try arith()
        var rest: [(op: String, rhs: Expr, pos: Pos)] = []
        let saved = depth
        defer { depth = saved }
        while true {
            var op: String
            let p = Pos(current)
            switch current.kind {
            case .punct(let s) where ["==", "!=", "<", "<=", ">", ">="].contains(s): op = s
            case .keyword("in"): op = "in"
            case .keyword("not") where nextToken.isKeyword("in"):
                _ = advance()
                op = "not in"
            default:
                return rest.isEmpty ? first : .compare(first, rest)
            }
            _ = advance()
            try enter()
            rest.append((op, try arith(), p))
        }
    }

    private mutating func arith() throws(SyntaxIssue) -> Expr {
        try binaryChain(["+", "-"], keyword: false) { (p: inout Parser) throws(SyntaxIssue) in try p.term() }
    }

    private mutating func term() throws(SyntaxIssue) -> Expr {
        try binaryChain(["*", "/", "//", "%"], keyword: false) { (p: inout Parser) throws(SyntaxIssue) in try p.unary() }
    }

    private mutating func unary() throws(SyntaxIssue) -> Expr {
        if current.isPunct("-") || current.isPunct("+") {
            let t = advance()
            try enter()
            defer { depth -= 1 }
            let operand = try unary()
            if case .punct(let op) = t.kind { return .unary(op, operand, Pos(t)) }
        }
        let base = try primary()
        if current.isPunct("**") {
            let p = Pos(advance())
            try enter()
            defer { depth -= 1 }
            return .binary("**", base, try unary(), p)
        }
        return base
    }

    private mutating func primary() throws(SyntaxIssue) -> Expr {
        var e = try operand()
        let saved = depth
        defer { depth = saved }
        while true {
            if current.isPunct(".") {
                _ = advance()
                guard case .identifier(let name) = current.kind else {
                    throw SyntaxIssue(pos: Pos(current), message: "expected an attribute name after '.', found \(current.display)")
                }
                try enter()
                e = .attribute(e, name, Pos(advance()))
            } else if current.isPunct("[") {
                let p = Pos(advance())
                try enter()
                e = try subscriptTail(e, p)
            } else if current.isPunct("(") {
                let open = advance()
                try enter()
                let callee = e.start
                let args = try arguments()
                _ = try expect(")", "to close the call's '(' at column \(open.column)")
                e = .call(e, args, callee)
            } else {
                return e
            }
        }
    }

    private mutating func subscriptTail(_ base: Expr, _ p: Pos) throws(SyntaxIssue) -> Expr {
        var parts: [Expr?] = [nil]
        var colons = 0
        if !current.isPunct(":") { parts[0] = try test() }
        while current.isPunct(":") && colons < 2 {
            _ = advance()
            colons += 1
            parts.append(current.isPunct(":") || current.isPunct("]") ? nil : try test())
        }
        _ = try expect("]", "to close the subscript")
        if colons == 0, let i = parts[0] { return .index(base, i, p) }
        if colons == 0 {
            throw SyntaxIssue(pos: p, message: "empty subscript")
        }
        return .slice(base, parts[0], parts[1], parts.count > 2 ? parts[2] : nil, p)
    }

    private mutating func arguments() throws(SyntaxIssue) -> [Argument] {
        var args: [Argument] = []
        var seenKeyword = false
        while !current.isPunct(")") {
            let p = Pos(current)
            if case .identifier(let name) = current.kind, nextToken.isPunct("=") {
                _ = advance()
                _ = advance()
                if args.contains(where: { $0.name == name }) {
                    throw SyntaxIssue(pos: p, message: "keyword argument '\(name)' repeated")
                }
                args.append(Argument(name: name, value: try test(), pos: p))
                seenKeyword = true
            } else {
                if seenKeyword {
                    throw SyntaxIssue(pos: p, message: "positional argument follows keyword argument")
                }
                let value = try test()
                if current.isKeyword("for") {
                    guard args.isEmpty else {
                        throw SyntaxIssue(pos: Pos(current), message: "a generator expression must be the call's sole argument")
                    }
                    let clauses = try comprehension()
                    if !current.isPunct(")") {
                        throw SyntaxIssue(pos: Pos(current), message: "a generator expression must be the call's sole argument")
                    }
                    return [Argument(name: nil, value: .listComprehension(value, clauses, p), pos: p)]
                }
                args.append(Argument(name: nil, value: value, pos: p))
            }
            if !current.isPunct(",") { break }
            _ = advance()
        }
        return args
    }

    private mutating func comprehension() throws(SyntaxIssue) -> [Clause] {
        var clauses: [Clause] = []
        while true {
            if current.isKeyword("for") {
                let p = Pos(advance())
                var targets: [(name: String, pos: Pos)] = []
                let paren = current.isPunct("(")
                if paren { _ = advance() }
                var unpack = paren
                while true {
                    guard case .identifier(let name) = current.kind else {
                        throw SyntaxIssue(pos: Pos(current), message: "expected a loop variable, found \(current.display)")
                    }
                    targets.append((name, Pos(advance())))
                    if !current.isPunct(",") { break }
                    unpack = true
                    _ = advance()
                    if current.isKeyword("in") || current.isPunct(")") { break }
                }
                if paren { _ = try expect(")", "after the loop variables") }
                guard current.isKeyword("in") else {
                    throw SyntaxIssue(pos: Pos(current), message: "expected 'in' in comprehension, found \(current.display)")
                }
                _ = advance()
                clauses.append(.forIn(targets: targets, unpack: unpack, iterable: try orExpr(), pos: p))
            } else if current.isKeyword("if") {
                _ = advance()
                clauses.append(.filter(try orExpr()))
            } else {
                return clauses
            }
        }
    }

    private mutating func operand() throws(SyntaxIssue) -> Expr {
        let t = current
        let p = Pos(t)
        switch t.kind {
        case .int(let v):
            _ = advance()
            return .literal(.int(v), p)
        case .float(let v):
            _ = advance()
            return .literal(.float(v), p)
        case .string(let s):
            _ = advance()
            if case .string = current.kind {
                throw SyntaxIssue(pos: Pos(current), message: "implicit string concatenation is not allowed; use '+'")
            }
            return .literal(.string(s), p)
        case .identifier(let n):
            _ = advance()
            return .name(n, p)
        case .keyword("None"):
            _ = advance()
            return .literal(.none, p)
        case .keyword("True"):
            _ = advance()
            return .literal(.bool(true), p)
        case .keyword("False"):
            _ = advance()
            return .literal(.bool(false), p)
        case .punct("("):
            _ = advance()
            if current.isPunct(")") {
                _ = advance()
                return .tuple([], p)
            }
            let first = try test()
            if current.isKeyword("for") {
                throw SyntaxIssue(pos: Pos(current), message: "generator expressions are only allowed as a call's sole argument; use [ … ]")
            }
            if current.isPunct(")") {
                _ = advance()
                return first
            }
            var items = [first]
            while current.isPunct(",") {
                _ = advance()
                if current.isPunct(")") { break }
                items.append(try test())
            }
            _ = try expect(")", "to close the '(' at column \(t.column)")
            return .tuple(items, p)
        case .punct("["):
            _ = advance()
            var items: [Expr] = []
            if !current.isPunct("]") {
                let first = try test()
                if current.isKeyword("for") {
                    let clauses = try comprehension()
                    _ = try expect("]", "to close the list comprehension")
                    return .listComprehension(first, clauses, p)
                }
                items.append(first)
                while current.isPunct(",") {
                    _ = advance()
                    if current.isPunct("]") { break }
                    items.append(try test())
                }
            }
            _ = try expect("]", "to close the '[' at column \(t.column)")
            return .list(items, p)
        case .punct("{"):
            _ = advance()
            var entries: [(key: Expr, value: Expr)] = []
            if !current.isPunct("}") {
                let k = try test()
                _ = try expect(":", "between a dict key and its value")
                let v = try test()
                if current.isKeyword("for") {
                    let clauses = try comprehension()
                    _ = try expect("}", "to close the dict comprehension")
                    return .dictComprehension(key: k, value: v, clauses, p)
                }
                entries.append((k, v))
                while current.isPunct(",") {
                    _ = advance()
                    if current.isPunct("}") { break }
                    let k = try test()
                    _ = try expect(":", "between a dict key and its value")
                    entries.append((k, try test()))
                }
            }
            _ = try expect("}", "to close the '{' at column \(t.column)")
            return .dict(entries, p)
        default:
            throw SyntaxIssue(pos: p, message: t.kind == .eof ? "unexpected end of expression" : "unexpected \(t.display)")
        }
    }
}
