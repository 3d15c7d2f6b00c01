/// A position inside the expression text: 1-based line and column, and a length for the caret.
struct Pos: Sendable {
    var line: Int
    var column: Int
    var length: Int

    init(_ token: Token) {
        line = token.line
        column = token.column
        length = token.length
    }

    init(line: Int, column: Int, length: Int) {
        self.line = line
        self.column = column
        self.length = length
    }
}

/// A syntax tree node of the expression language.
indirect enum Expr: Sendable {
    case literal(Value, Pos)
    case name(String, Pos)
    /// `-x`, `+x`, `not x`.
    case unary(String, Expr, Pos)
    /// Arithmetic, `and`, `or`; the position is the operator's.
    case binary(String, Expr, Expr, Pos)
    /// `a < b <= c`: the first operand, then each (operator, operand, operator position).
    case compare(Expr, [(op: String, rhs: Expr, pos: Pos)])
    /// `then if cond else orElse`.
    case conditional(then: Expr, cond: Expr, orElse: Expr, Pos)
    case lambda(params: [Param], body: Expr, Pos)
    /// `x.name`; the position is the name's.
    case attribute(Expr, String, Pos)
    /// `x[i]`; the position is the bracket's.
    case index(Expr, Expr, Pos)
    /// `x[a:b:c]`; the position is the bracket's.
    case slice(Expr, Expr?, Expr?, Expr?, Pos)
    /// `f(args)`; the position is the callee's.
    case call(Expr, [Argument], Pos)
    case list([Expr], Pos)
    case tuple([Expr], Pos)
    case dict([(key: Expr, value: Expr)], Pos)
    case listComprehension(Expr, [Clause], Pos)
    case dictComprehension(key: Expr, value: Expr, [Clause], Pos)

    /// Where the node starts, for diagnostics about the node as a whole.
    var start: Pos {
        switch self {
        case .literal(_, let p), .name(_, let p), .unary(_, _, let p), .lambda(_, _, let p), .list(_, let p),
            .tuple(_, let p), .dict(_, let p), .listComprehension(_, _, let p), .dictComprehension(_, _, _, let p):
            return p
        case .binary(_, let l, _, _), .compare(let l, _), .attribute(let l, _, _), .index(let l, _, _),
            .slice(let l, _, _, _, _), .call(let l, _, _), .conditional(let l, _, _, _):
            return l.start
        }
    }
}

/// A lambda parameter, with its optional default value.
struct Param: Sendable {
    var name: String
    var defaultValue: Expr?
    var pos: Pos
}

/// A call argument, positional (`name == nil`) or keyword.
struct Argument: Sendable {
    var name: String?
    var value: Expr
    var pos: Pos
}

/// A comprehension clause: `for a, b in xs` or `if cond`.
enum Clause: Sendable {
    case forIn(targets: [(name: String, pos: Pos)], unpack: Bool, iterable: Expr, pos: Pos)
    case filter(Expr)
}
