/// What TriggerWatch counts for one trigger (shown by `vem triggers`).
public struct TriggerStats: Hashable, Sendable, Codable {
    /// The trigger's name.
    public var name: String
    /// Seconds between periodic evaluations (0: none).
    public var ticks: Int
    /// Also evaluated when properties arrive.
    public var onUpdateCheck: Bool
    /// Evaluations of `expr` so far.
    public var evaluations = 0
    /// Times `expr` was true and `cmd` ran.
    public var fired = 0
    /// Evaluations that failed (an error in `expr` or `cmd`, including budget overruns).
    public var errors = 0
    /// Evaluations stopped by the step budget (also counted in ``errors``).
    public var budgetExceeded = 0
    /// Actions `cmd` asked for so far.
    public var actions = 0
    /// When it was last evaluated (seconds since 1970).
    public var lastEvaluation: Double?
    /// `true`, `false` (the value of `expr`), or `error`.
    public var lastResult: String?
    /// How long the last evaluation took (expr and cmd), in milliseconds.
    public var lastDurationMilliseconds: Double?
    /// The last error, with the trigger's name and location.
    public var lastError: String?
    /// When the last error happened.
    public var lastErrorTime: Double?
}
