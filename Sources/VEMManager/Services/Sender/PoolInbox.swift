/// The pool's outcomes waiting for the Sender (follow-ups of command outcomes, guests' joins, the pool's timer),
/// merged while they wait: an outcome joins the batch queued last when no other job was queued after it and it
/// has not started, so the Sender carries them out as one job (one journal transaction before the bus, one
/// after), in the order they came, and no job overtakes another. After a setup of 2,000 VMs, the joins and
/// registrations queued one job each (two commits apiece) held the next demand change's rebalance for 4–6 s.
struct PoolInbox: Sendable {
    private var open: Int?
    private var last = 0
    private var waiting: [Int: [PoolController.Outcome]] = [:]

    /// Adds `outcome` to the open batch (nil: nothing more to queue), or opens a new one: its number, for the
    /// job to queue.
    mutating func add(_ outcome: PoolController.Outcome) -> Int? {
        if let open {
            waiting[open, default: []].append(outcome)
            return nil
        }
        last += 1
        open = last
        waiting[last] = [outcome]
        return last
    }

    /// Another job was queued: the open batch takes no more outcomes.
    mutating func close() { open = nil }

    /// The outcomes of batch `number`, which starts now (it takes no more).
    mutating func take(_ number: Int) -> [PoolController.Outcome] {
        if open == number { open = nil }
        return waiting.removeValue(forKey: number) ?? []
    }
}
