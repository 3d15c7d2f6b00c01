/// The sandbox's limits for compiling and evaluating one program.
///
/// Running past a limit stops that evaluation with a ``RuleError`` (code ``RuleError/Code/budget``
/// or ``RuleError/Code/limit``); it never stops the process.
public struct Limits: Sendable, Hashable {
    /// Steps one evaluation may take. A step is one loop iteration, one function call, or a
    /// share of the work of building a large value (1 per 64 list elements or 1 KiB of string).
    public var maxSteps: Int = 100_000
    /// Deepest nesting of the syntax tree (parentheses, operators, calls) accepted by the parser.
    public var maxNesting: Int = 200
    /// Deepest chain of active function calls during evaluation.
    public var maxCallDepth: Int = 64
    /// Longest list, tuple or dict that may be built.
    public var maxCollectionLength: Int = 1_000_000
    /// Longest string (in Unicode scalars) that may be built.
    public var maxStringLength: Int = 10_000_000
    /// Longest source text accepted, in Unicode scalars.
    public var maxSourceLength: Int = 1_000_000
    /// Bytes one evaluation may build in all, counted as it builds lists, tuples, dicts (an element's size each)
    /// and strings (a byte a character): the ceiling on one evaluation's memory, whatever its step budget.
    /// Default 256 MiB.
    public var maxBuiltBytes: Int = 256 << 20

    /// The defaults: 100,000 steps, nesting 200, 1,000,000 elements, 10,000,000-character strings, 256 MiB built.
    public init() {}

    /// Limits with a different step budget.
    public init(maxSteps: Int) { self.maxSteps = maxSteps }
}
