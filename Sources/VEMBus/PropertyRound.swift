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
/// and the waiting caller is woken once, when the last reply arrives or the round times out. A round is a class so
/// that recording a reply mutates it in place (a struct copied out of the dictionary would copy its sets: O(N)
/// per reply).
struct RoundTable {
    final class Round {
        var waiting: Set<String>
        var replies: [String: PropertyReport] = [:]
        var continuation: CheckedContinuation<PropertyRoundResult, Never>?
        var finished: Bool
        /// Told of each reply as it arrives.
        let observer: Observer?

        init(waiting: Set<String>, observer: Observer?) {
            self.waiting = waiting
            self.observer = observer
            finished = waiting.isEmpty
            replies.reserveCapacity(waiting.count)
        }
    }

    typealias Completion = (CheckedContinuation<PropertyRoundResult, Never>, PropertyRoundResult)
    /// Called with each reply of a round as it arrives.
    typealias Observer = @Sendable (String, PropertyReport) -> Void

    private var nextID: UInt64 = 1
    private var rounds: [UInt64: Round] = [:]

    /// Opens a round expecting replies from `names`.
    mutating func open(expecting names: Set<String>, observer: Observer? = nil) -> UInt64 {
        let id = nextID
        nextID &+= 1
        if nextID == 0 { nextID = 1 }
        rounds[id] = Round(waiting: names, observer: observer)
        return id
    }

    /// Records a reply. Returns whether the request id names a round in flight (otherwise the report is
    /// unsolicited), the continuation to resume when this reply completed the round, and the round's observer
    /// to tell of this reply (both to call once the lock is released).
    mutating func reply(
        _ report: PropertyReport, from name: String
    ) -> (known: Bool, completion: Completion?, observer: Observer?) {
        guard let round = rounds[report.requestID] else { return (false, nil, nil) }
        guard !round.finished, round.waiting.remove(name) != nil else { return (true, nil, nil) }
        round.replies[name] = report
        guard round.waiting.isEmpty else { return (true, nil, round.observer) }
        round.finished = true
        guard let continuation = round.continuation else { return (true, nil, round.observer) }
        rounds[report.requestID] = nil
        return (true, (continuation, result(of: round, id: report.requestID)), round.observer)
    }

    /// Whether `id` names a round in flight.
    func contains(_ id: UInt64) -> Bool { rounds[id] != nil }

    /// Attaches the waiting caller; returns the result at once if the round is already complete.
    mutating func attach(
        _ continuation: CheckedContinuation<PropertyRoundResult, Never>, to id: UInt64
    ) -> PropertyRoundResult? {
        guard let round = rounds[id] else { return PropertyRoundResult(requestID: id, replies: [:], missing: []) }
        if round.finished {
            rounds[id] = nil
            return result(of: round, id: id)
        }
        round.continuation = continuation
        return nil
    }

    /// Ends a round (timeout or cancellation); returns the continuation to resume if one is attached.
    mutating func finish(_ id: UInt64) -> Completion? {
        guard let round = rounds[id], !round.finished else { return nil }
        round.finished = true
        guard let continuation = round.continuation else { return nil }
        rounds[id] = nil
        return (continuation, result(of: round, id: id))
    }

    private func result(of round: Round, id: UInt64) -> PropertyRoundResult {
        PropertyRoundResult(requestID: id, replies: round.replies, missing: round.waiting.sorted())
    }
}
