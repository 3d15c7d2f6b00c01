/// TriggerWatch's instance: when each trigger is evaluated. A pure value — no clock, no tasks, no locks: the
/// shell (``TriggerWatch``) feeds it the time and what happened (a wake-up, properties arriving, a reload) and
/// carries out the ``Action``s it returns (evaluate these triggers, wake me at T).
///
/// The rules it keeps:
/// - each trigger with `ticks > 0` is due every `ticks` seconds from its generation's start (the Manager's
///   creation, or the reload that brought it); a shell that fell behind skips the missed ticks;
/// - properties arriving make every `on_update_check` trigger due, at most one such pass per ``updateInterval``
///   (the debounce): what arrives while one waits is covered by that pass, not by one more;
/// - a reload starts a new generation: the old one's ticks are dropped, the new one's count from the reload, and
///   its `on_update_check` triggers see the state at once (subject to the debounce).
struct TriggerSchedule: Sendable, Equatable {
    /// Why a pass runs.
    enum Reason: String, Sendable, Equatable {
        /// A periodic trigger's ticks came round.
        case tick
        /// Properties arrived (or a reload), for the `on_update_check` triggers.
        case update
    }

    /// What the shell is to do.
    enum Action: Sendable, Equatable {
        /// Evaluate the triggers at these indices of generation `generation`, against one snapshot.
        case evaluate([Int], generation: Int, reason: Reason)
        /// Nothing more is due before this time (`nil`: until something happens).
        case wake(at: Double?)
    }

    /// One trigger as the schedule sees it.
    struct Entry: Sendable, Equatable {
        /// Seconds between periodic evaluations (0: none).
        var ticks: Int
        /// Evaluated when properties arrive.
        var onUpdate: Bool
    }

    /// The generation's number (0 for the configuration the Manager started with; each reload adds one).
    private(set) var generation = 0
    /// The triggers of the current generation, in configuration order.
    private(set) var entries: [Entry]
    /// The least time between two on-update passes, in seconds.
    let updateInterval: Double
    /// When each periodic trigger is next due, by index.
    private(set) var due: [Int: Double] = [:]
    /// When the last on-update pass ran.
    private(set) var lastUpdatePass = -Double.infinity
    /// Properties arrived (or a reload came) since the last on-update pass.
    private(set) var updatePending = false

    /// A schedule whose first generation starts at `since`.
    init(_ entries: [Entry], since: Double, updateInterval: Double = 1) {
        self.entries = entries
        self.updateInterval = updateInterval
        start(at: since)
    }

    /// Whether any trigger has `on_update_check = yes`.
    var hasUpdateTriggers: Bool { entries.contains(where: \.onUpdate) }

    /// The next time something is due: a periodic trigger, or a debounced on-update pass (nil: none).
    var nextWake: Double? {
        let update = updatePending ? lastUpdatePass + updateInterval : nil
        return [due.values.min(), update].compactMap { $0 }.min()
    }

    /// Whether an on-update pass is due but waits out the debounce (the demo's clock does not wait for it).
    var updatePassWaiting: Bool { updatePending }

    /// Time is `now` (the shell woke, or was asked to catch up): the passes due, then the next wake-up.
    mutating func tick(at now: Double) -> [Action] {
        var actions: [Action] = []
        let ready = due.filter { $0.value <= now }.keys.sorted()
        if !ready.isEmpty {
            actions.append(.evaluate(ready, generation: generation, reason: .tick))
            for i in ready {
                let ticks = Double(entries[i].ticks)
                var next = (due[i] ?? now) + ticks
                if next <= now { next = now + ticks }  // fell behind: skip the missed ticks
                due[i] = next
            }
        }
        if updatePending && now >= lastUpdatePass + updateInterval { actions.append(updatePass(at: now)) }
        actions.append(.wake(at: nextWake))
        return actions
    }

    /// Properties arrived at `now`: an on-update pass now, or once the debounce allows.
    mutating func propertiesArrived(at now: Double) -> [Action] {
        guard hasUpdateTriggers else { return [] }
        updatePending = true
        return tick(at: now)
    }

    /// A reload swapped in `entries` as generation `number` at `since` (the shell learns it at `now`, maybe later):
    /// the old generation's ticks are dropped, the new one's count from `since`; its on-update triggers see the
    /// state at once (the debounce still holds).
    mutating func reload(_ entries: [Entry], generation number: Int, since: Double, at now: Double) -> [Action] {
        self.entries = entries
        generation = number
        start(at: since)
        if hasUpdateTriggers { updatePending = true }
        return tick(at: now)
    }

    private mutating func start(at since: Double) {
        due = [:]
        for (i, entry) in entries.enumerated() where entry.ticks > 0 { due[i] = since + Double(entry.ticks) }
    }

    private mutating func updatePass(at now: Double) -> Action {
        updatePending = false
        lastUpdatePass = now
        let indices = entries.indices.filter { entries[$0].onUpdate }
        return .evaluate(indices, generation: generation, reason: .update)
    }
}
