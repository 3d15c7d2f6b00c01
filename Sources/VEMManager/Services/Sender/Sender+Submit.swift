import Logging
import VEMBus

/// The hand-off of commands: numbered by the instance, journaled as `queued`, handed to the bus, journaled as
/// `sent` or `failed`.
extension Sender {
    /// Journals `requests` as `queued` (with `decisions` and the `inventory`'s changes, in one transaction),
    /// hands each to its Client's command stream, then journals in one more transaction which were `sent` (their
    /// Client connected; the others stay `queued` until it comes back) and which failed. A command to a Client
    /// that never joined is refused before anything is journaled for it.
    func submit(
        _ requests: [Request], decisions: [DecisionRecord] = [],
        inventory: Journal.InventoryChanges = Journal.InventoryChanges(), at now: Double
    ) async -> [Result<PendingCommand, ManagerError>] {
        var results = [Result<PendingCommand, ManagerError>?](repeating: nil, count: requests.count)
        let known = state.joined(among: requests.map(\.client))
        let numbering = core.withLock { $0.number(requests) { known.contains($0) } }
        for (i, refusal) in numbering.refusals { results[i] = .failure(ManagerError(.bus, refusal)) }
        do {
            try await journal.record(decisions: decisions, inventory: inventory, commands: numbering.commands, at: now)
        } catch {
            state.recordError("\(error)", at: now, source: "journal")
            for i in requests.indices where results[i] == nil { results[i] = .failure(error) }
            return results.map { $0 ?? .failure(ManagerError(.journal, "not journaled")) }
        }
        var updates: [Journal.CommandUpdate] = []
        for (i, r) in requests.enumerated() where results[i] == nil {
            let predicted = numbering.predicted[i]
            let pending: PendingCommand
            do {
                // The journal keeps the arguments without the VM credential `vm.create` carries on the wire.
                let arguments = trust.wireArguments(command: r.name, arguments: r.arguments)
                pending = try bus.submit(r.name, arguments: arguments, to: r.client)
            } catch {
                let update = core.withLock {
                    $0.handed(r, seq: nil, predicted: predicted, connected: false, error: "\(error)")
                }
                if let update { updates.append(update) }
                results[i] = .failure(ManagerError(.bus, error.message))
                continue
            }
            let connected = bus.isConnected(r.client)
            let update = core.withLock { $0.handed(r, seq: pending.seq, predicted: predicted, connected: connected) }
            if pending.seq != predicted {
                logger.error(
                    "command stream numbering differs from the journal",
                    metadata: ["client": "\(r.client)", "expected": "\(predicted)", "seq": "\(pending.seq)"])
            }
            // A Client that is not connected now gets the command when it comes back (same incarnation: resumed;
            // a new one: it was never sent, so it is sent then): it stays `queued` until then.
            if let update {
                updates.append(update)
            } else {
                logger.info(
                    "command queued until the client reconnects",
                    metadata: ["client": "\(r.client)", "seq": "\(pending.seq)"])
            }
            results[i] = .success(pending)
        }
        do {
            try await journal.record(updates: updates, at: clock.now())
        } catch {
            state.recordError("\(error)", at: now, source: "journal")
        }
        return results.map { $0 ?? .failure(ManagerError(.journal, "not journaled")) }
    }
}
