import VEMProtocol

/// The outcome of a property round (``ManagerBus/collectProperties(_:from:timeout:)``).
public struct PropertyRoundResult: Sendable {
    /// The `request_id` the round used.
    public var requestID: UInt64
    /// The replies, by Client name.
    public var replies: [String: PropertyReport]
    /// The Clients asked that did not answer before the timeout (or disconnected), sorted.
    public var missing: [String]

    /// Creates a result.
    public init(requestID: UInt64, replies: [String: PropertyReport], missing: [String]) {
        self.requestID = requestID
        self.replies = replies
        self.missing = missing
    }
}

/// The rounds in flight, keyed by request id: replies are gathered under one lock, without an event per reply,
/// and the waiting caller is woken once, when the last reply arrives or the round times out.
struct RoundTable {
    struct Round {
        var waiting: Set<String>
        var replies: [String: PropertyReport] = [:]
        var continuation: CheckedContinuation<PropertyRoundResult, Never>?
        var finished = false
    }

    private var nextID: UInt64 = 1
    private var rounds: [UInt64: Round] = [:]

    /// Opens a round expecting replies from `names`.
    mutating func open(expecting names: Set<String>) -> UInt64 {
        let id = nextID
        nextID &+= 1
        if nextID == 0 { nextID = 1 }
        rounds[id] = Round(waiting: names, finished: names.isEmpty)
        return id
    }

    /// Records a reply; returns the continuation to resume when it completed the round.
    mutating func reply(
        _ report: PropertyReport, from name: String
    ) -> (CheckedContinuation<PropertyRoundResult, Never>, PropertyRoundResult)? {
        guard var round = rounds[report.requestID], !round.finished else { return nil }
        guard round.waiting.remove(name) != nil else { return nil }
        round.replies[name] = report
        if round.waiting.isEmpty {
            round.finished = true
            if let continuation = round.continuation {
                rounds[report.requestID] = nil
                return (continuation, result(of: round, id: report.requestID))
            }
        }
        rounds[report.requestID] = round
        return nil
    }

    /// Whether `id` names a round in flight (a reply for another id is an unsolicited report).
    func contains(_ id: UInt64) -> Bool { rounds[id] != nil }

    /// Attaches the waiting caller; returns the result at once if the round is already complete.
    mutating func attach(
        _ continuation: CheckedContinuation<PropertyRoundResult, Never>, to id: UInt64
    ) -> PropertyRoundResult? {
        guard var round = rounds[id] else { return PropertyRoundResult(requestID: id, replies: [:], missing: []) }
        if round.finished {
            rounds[id] = nil
            return result(of: round, id: id)
        }
        round.continuation = continuation
        rounds[id] = round
        return nil
    }

    /// Ends a round (timeout or cancellation); returns the continuation to resume if one is attached.
    mutating func finish(
        _ id: UInt64
    ) -> (CheckedContinuation<PropertyRoundResult, Never>, PropertyRoundResult)? {
        guard var round = rounds[id], !round.finished else { return nil }
        round.finished = true
        if let continuation = round.continuation {
            rounds[id] = nil
            return (continuation, result(of: round, id: id))
        }
        rounds[id] = round
        return nil
    }

    private func result(of round: Round, id: UInt64) -> PropertyRoundResult {
        PropertyRoundResult(requestID: id, replies: round.replies, missing: round.waiting.sorted())
    }
}
