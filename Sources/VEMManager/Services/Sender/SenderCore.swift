import VEMBus
import VEMProtocol

/// The Sender's instance: every decision the Sender makes, as a value fed events and returning what to do. No
/// bus, journal, clock or lock: the shell (``Sender``) holds it under one mutex, feeds it what happened and
/// carries out what it returns (journal these rows, hand these commands to the bus, settle this pool operation).
///
/// What it decides:
/// - **coalescing**: at most one `policy.rebalance()` waits in the queue (``enqueue(_:)``, ``rebalanceStarted()``);
/// - **quiet passes**: a rebalance that changed nothing is journaled once, not at every pass, and the same refusal
///   is logged at notice level once (``isRepeatedRefusal(_:trigger:)``,
///   ``rebalanceFinished(trigger:reason:changed:)``);
/// - **numbering**: each command's sequence number in its Client's stream, predicted before it is journaled and
///   checked when the bus hands it back (``number(_:known:)``, ``handed(_:seq:predicted:connected:)``);
/// - **outcomes**: the journal state of each outcome and what the pool is to make of it
///   (``watch(_:followUp:)``, ``outcome(_:of:)``, ``outcomeJournaled()``).
struct SenderCore: Sendable {
    /// A command to send.
    struct Request: Sendable, Hashable {
        var client: String
        var name: String
        var arguments: [NamedValue]
        var trigger: String
    }

    /// A command in a Client's stream.
    struct Key: Sendable, Hashable {
        var client: String
        var seq: UInt64
    }

    /// What the pool is to hear of a command's outcome.
    enum FollowUp: Sendable, Hashable {
        /// The pool operation it carries out.
        case operation(Int)
        /// The host list (`vm.list`) it asks for.
        case list(PoolController.HostList)
    }

    /// The numbers of a batch of requests, before it is journaled.
    struct Numbering: Sendable, Equatable {
        /// Refused before anything is journaled (their Client never joined), by index.
        var refusals: [Int: String] = [:]
        /// The rows to journal as `queued`.
        var commands: [Journal.NewCommand] = []
        /// The sequence number each request is expected to get, by index (0: refused).
        var predicted: [UInt64] = []
    }

    /// What an outcome comes to.
    struct Settlement: Sendable, Equatable {
        /// The command's new journal state and its summary.
        var state: CommandState
        var summary: String
        /// What the pool is to hear: the host's list output (an `ok`, whole result), or the operation's error
        /// (nil: it succeeded).
        var reconcile: (list: PoolController.HostList, output: String)?
        var settle: (operation: Int, error: String?)?

        static func == (a: Settlement, b: Settlement) -> Bool {
            a.state == b.state && a.summary == b.summary && a.reconcile?.list == b.reconcile?.list
                && a.reconcile?.output == b.reconcile?.output && a.settle?.operation == b.settle?.operation
                && a.settle?.error == b.settle?.error
        }
    }

    /// The Sender's property requests are numbered from here on (a Client's scheduled reports carry 0).
    static let firstRequestID: UInt64 = 1 << 62

    /// The last sequence number used, by Client.
    private(set) var lastSeq: [String: UInt64] = [:]
    private(set) var nextRequestID: UInt64 = Self.firstRequestID
    /// Commands handed to the bus, outcomes journaled and property requests sent, since start.
    private(set) var commandsSent = 0
    private(set) var outcomesRecorded = 0
    private(set) var propertyRequests = 0
    /// What each trigger's last `policy.rebalance()` that changed nothing was journaled as.
    private(set) var quietRebalance: [String: String] = [:]
    /// A `policy.rebalance()` is queued and has not started: another one asked for meanwhile is dropped.
    private(set) var rebalanceQueued = false
    /// Rebalances dropped because one was already queued.
    private(set) var rebalancesCoalesced = 0
    /// The pool's interest in commands whose outcome is awaited.
    private(set) var followUps: [Key: FollowUp] = [:]

    // MARK: Coalescing

    /// A trigger asked for `actions`: what to queue (empty: nothing). At most one `policy.rebalance()` waits in
    /// the queue: one asked for while another has not started is dropped, since the queued one reads the state
    /// when it runs, later than this request.
    mutating func enqueue(_ actions: [TriggerAction]) -> [TriggerAction] {
        guard let first = actions.firstIndex(of: .rebalance) else { return actions }
        if rebalanceQueued {
            rebalancesCoalesced += 1
            return actions.filter { $0 != .rebalance }
        }
        rebalanceQueued = true
        return actions.enumerated().filter { $0.offset <= first || $0.element != .rebalance }.map(\.element)
    }

    /// A queued `policy.rebalance()` starts: a request from now on plans after this one, so it is queued.
    mutating func rebalanceStarted() { rebalanceQueued = false }

    /// Whether `trigger`'s last rebalance was refused with these words (logged at debug level, not notice).
    func isRepeatedRefusal(_ refusal: String, trigger: String) -> Bool {
        quietRebalance[trigger] == "not run: \(refusal)"
    }

    /// `trigger`'s rebalance ended with `reason`; whether its decision is journaled: not when it changed nothing
    /// and ended as the one before did.
    mutating func rebalanceFinished(trigger: String, reason: String, changed: Bool) -> Bool {
        defer { quietRebalance[trigger] = changed ? nil : reason }
        return changed || quietRebalance[trigger] != reason
    }

    // MARK: Property requests

    /// The next property request's id.
    mutating func nextPropertyRequest() -> UInt64 {
        nextRequestID += 1
        propertyRequests += 1
        return nextRequestID
    }

    // MARK: Numbering

    /// A recovered stream's numbers are used up to `seq`.
    mutating func adopt(client: String, through seq: UInt64) { lastSeq[client] = seq }

    /// Numbers `requests` (the Clients `known` to the state, or numbered before, may be sent to).
    func number(_ requests: [Request], known: (String) -> Bool) -> Numbering {
        var numbering = Numbering(predicted: Array(repeating: 0, count: requests.count))
        var next: [String: UInt64] = [:]
        for (i, r) in requests.enumerated() {
            guard known(r.client) || lastSeq[r.client] != nil else {
                numbering.refusals[i] = "no client named \(r.client) has ever joined"
                continue
            }
            let seq = (next[r.client] ?? lastSeq[r.client] ?? 0) + 1
            next[r.client] = seq
            numbering.predicted[i] = seq
            numbering.commands.append(
                Journal.NewCommand(
                    client: r.client, seq: seq, name: r.name, arguments: r.arguments, trigger: r.trigger))
        }
        return numbering
    }

    /// The bus took a journaled command as `seq` (nil: it refused it, `error`); its journal update: `sent` when
    /// its Client is `connected` (else it stays `queued` until the Client comes back: none), `failed` when
    /// refused.
    mutating func handed(
        _ request: Request, seq: UInt64?, predicted: UInt64, connected: Bool, error: String = ""
    ) -> Journal.CommandUpdate? {
        guard let seq else {
            lastSeq[request.client] = predicted
            return Journal.CommandUpdate(
                client: request.client, seq: predicted, state: .failed, result: "not sent: \(error)")
        }
        lastSeq[request.client] = max(seq, predicted)
        commandsSent += 1
        return connected ? Journal.CommandUpdate(client: request.client, seq: seq, state: .sent) : nil
    }

    // MARK: Outcomes

    /// A command's outcome is awaited; the pool hears of it as `followUp` (nil: it does not).
    mutating func watch(_ key: Key, followUp: FollowUp?) {
        if let followUp { followUps[key] = followUp }
    }

    /// An outcome's new state is journaled (or its write failed).
    mutating func outcomeJournaled() { outcomesRecorded += 1 }

    /// The journal's name of an outcome's state (`done`, `failed`, `unknown`).
    static func stateName(_ outcome: CommandOutcome) -> String {
        switch outcome {
        case .result(let result): result.status == .ok ? "done" : "failed"
        case .unknown: "unknown"
        case .cancelled: "failed"
        }
    }

    /// `key`'s outcome arrived: its journal state and what the pool is to hear.
    mutating func outcome(_ outcome: CommandOutcome, of key: Key) -> Settlement {
        var settlement: Settlement
        switch outcome {
        case .result(let result):
            settlement = Settlement(state: result.status == .ok ? .done : .failed, summary: result.summary)
        case .unknown:
            settlement = Settlement(
                state: .unknown, summary: "the client's incarnation ended before its result came back")
        case .cancelled:
            settlement = Settlement(state: .failed, summary: "cancelled before it was sent")
        }
        switch followUps.removeValue(forKey: key) {
        case .list(let list)?:
            if case .result(let r) = outcome, r.status == .ok, !r.outputTruncated {
                settlement.reconcile = (list, r.output)
            }
        case .operation(let operation)?:
            let error: String? =
                switch outcome {
                case .result(let r) where r.status == .ok: nil
                case .result(let r): r.error ?? "\(r.status)"
                case .unknown: "outcome unknown: the client went away"
                case .cancelled: "not sent"
                }
            settlement.settle = (operation, error)
        case nil:
            break
        }
        return settlement
    }
}

extension Journal.NewCommand: Equatable {
    static func == (a: Self, b: Self) -> Bool {
        a.client == b.client && a.seq == b.seq && a.name == b.name && a.arguments == b.arguments
            && a.trigger == b.trigger
    }
}
