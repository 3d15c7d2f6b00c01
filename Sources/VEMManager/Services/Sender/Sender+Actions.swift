import Logging
import VEMBus
import VEMProtocol

/// The Sender's actions: a trigger's commands, property requests, logs, rebalances and VM requests; the pool's
/// commands and host lists. Each returns the commands it handed to the bus, with what the pool is to hear of
/// their outcome.
extension Sender {
    /// `sender.send_command(…)` actions of one trigger: journaled, sent and decided on together.
    func performCommands(_ actions: [TriggerAction], trigger: String) async -> [PendingCommand] {
        let now = clock.now()
        let requests = actions.compactMap { action -> Request? in
            guard case .command(let client, let name, let arguments) = action else { return nil }
            return Request(client: client, name: name, arguments: arguments, trigger: trigger)
        }
        var pendings: [PendingCommand] = []
        var decisions: [DecisionRecord] = []
        for (action, result) in zip(actions, await submit(requests, at: now)) {
            var reason = "expr true"
            switch result {
            case .success(let pending): pendings.append(pending)
            case .failure(let error):
                reason = "refused: \(error.message)"
                state.recordError("\(action): \(error.message)", at: now, source: "trigger:\(trigger)")
            }
            decisions.append(DecisionRecord(time: now, trigger: trigger, action: action.description, reason: reason))
        }
        logger.info("commands sent", metadata: ["trigger": "\(trigger)", "commands": "\(pendings.count)"])
        do { try await journal.record(decisions: decisions, at: now) } catch {
            state.recordError("\(error)", at: now, source: "journal")
        }
        return pendings
    }

    /// One action of a trigger, then its decision journaled (a rebalance that changed nothing, as the one before
    /// it, is not journaled again). `tick`: when the trigger's pass began (``Sender/uptimeNanoseconds()``).
    func perform(
        _ action: TriggerAction, trigger: String, tick: UInt64 = Sender.uptimeNanoseconds()
    ) async -> [(PendingCommand, SenderCore.FollowUp?)] {
        let now = clock.now()
        var metadata: Logger.Metadata = ["trigger": "\(trigger)"]
        var reason = "expr true"
        var pendings: [(PendingCommand, SenderCore.FollowUp?)] = []
        switch action {
        case .getProperty(let clients, let names):
            let id = core.withLock { $0.nextPropertyRequest() }
            let request = Message.getProperty(GetProperty(requestID: id, names: names))
            var reached = 0
            // Owed before they are sent (a reply may come at once); a Client that is gone by then owes nothing.
            // (The names only, unsorted: the order does not matter here.)
            let asked = clients ?? bus.memberNames()
            activity.repliesExpected(from: asked)
            if let clients {
                for client in clients {
                    let sent = bus.send(request, to: .client(client))
                    reached += sent
                    if sent == 0 { activity.clientGone(client) }
                }
            } else {
                reached = bus.send(request, to: .all)
                for client in bus.disconnected(among: asked) { activity.clientGone(client) }
            }
            reason += ", reached \(reached) client\(reached == 1 ? "" : "s")"
            logger.debug("get_property sent", metadata: metadata.merging(["clients": "\(reached)"]) { $1 })
        case .command(let client, let name, let arguments):
            metadata["client"] = "\(client)"
            metadata["command"] = "\(name)"
            let request = Request(client: client, name: name, arguments: arguments, trigger: trigger)
            switch await submit([request], at: now).first {
            case .success(let sent)?:
                pendings.append((sent, nil))
                metadata["seq"] = "\(sent.seq)"
                logger.info("command sent", metadata: metadata)
            case .failure(let error)?:
                reason = "refused: \(error.message)"
                logger.warning("command not sent", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                state.recordError("\(action): \(error.message)", at: now, source: "trigger:\(trigger)")
            case nil:
                break
            }
        case .log(let text):
            logger.info("trigger log: \(text)", metadata: metadata)
        case .rebalance:
            core.withLock { $0.rebalanceStarted() }
            let started = ContinuousClock.now
            let outcome = await pool.rebalance(state.poolSnapshot(at: now), trigger: trigger, now: now)
            // The same refusal at every pass (no batch Client yet) is logged once at notice level, when it starts
            // or changes, not at every poll.
            let sameRefusal = outcome.refusal.map { r in core.withLock { $0.isRepeatedRefusal(r, trigger: trigger) } }
            let planned = ContinuousClock.now
            if outcome.dispatches.contains(where: { $0.command.name == "vm.create" }) { passTimings.created(tick: tick) }
            let changed: Bool
            (reason, pendings, changed) = await carryOut(
                outcome, refusedAs: "not run", action: "policy.rebalance()", trigger: trigger,
                quiet: sameRefusal ?? false)
            passTimings.record(plan: planned - started, pass: ContinuousClock.now - started)
            // A rebalance that changed nothing is journaled once, not at every pass (the default trigger runs it
            // after every property round): again only when its outcome differs, or after one that acted.
            let journaled = core.withLock { $0.rebalanceFinished(trigger: trigger, reason: reason, changed: changed) }
            if !journaled { return pendings }
        case .vm(let request):
            let outcome = await pool.act(request, snapshot: state.poolSnapshot(at: now), trigger: trigger, now: now)
            (reason, pendings, _) = await carryOut(
                outcome, refusedAs: "refused", action: request.description, trigger: trigger)
        }
        do {
            try await journal.recordDecision(
                DecisionRecord(time: now, trigger: trigger, action: action.description, reason: reason))
        } catch {
            state.recordError("\(error)", at: now, source: "journal")
        }
        return pendings
    }

    /// Carries out a pool outcome (`policy.rebalance()`, `vm.*`): its commands, or its refusal with the words
    /// `refusedAs` (`not run`, `refused`). `changed` is false when it sent nothing.
    /// A refusal is logged at notice level, or at debug level when `quiet` (the same refusal as last time).
    private func carryOut(
        _ outcome: PoolController.Outcome, refusedAs: String, action: String, trigger: String, quiet: Bool = false
    ) async -> (reason: String, pendings: [(PendingCommand, SenderCore.FollowUp?)], changed: Bool) {
        if let refusal = outcome.refusal {
            logger.log(
                level: quiet ? .debug : .notice, "\(action) \(refusedAs): \(refusal)",
                metadata: ["trigger": "\(trigger)"])
            return ("\(refusedAs): \(refusal)", [], false)
        }
        let pendings = await carryOut([outcome])
        let count = outcome.dispatches.count
        return ("planned \(count) operation\(count == 1 ? "" : "s")", pendings, count > 0)
    }

    /// Journals the pool's new decisions (each with its outcome's trigger), the inventory's changes and the
    /// commands of `outcomes` (each with its trigger) in one transaction, sends the commands, then journals their
    /// new states in another.
    func carryOut(_ outcomes: [PoolController.Outcome]) async -> [(PendingCommand, SenderCore.FollowUp?)] {
        let now = clock.now()
        let decisions = outcomes.flatMap { outcome in
            outcome.decisions.map { d in
                DecisionRecord(
                    time: Double(d.time), trigger: outcome.trigger, action: d.action.rawValue, reason: d.reason,
                    vm: d.vm, group: d.group)
            }
        }
        let inventory = await pool.inventoryChanges(at: now)
        let dispatches = outcomes.flatMap(\.dispatches)
        // As the plugins take them: named for `vm.*`, positional for `slurm.*`/`replay.*`.
        let requests = dispatches.map {
            Request(client: $0.client, name: $0.command.name, arguments: $0.command.arguments, trigger: $0.trigger)
        }
        let results = await submit(requests, decisions: decisions, inventory: inventory, at: now)
        var pendings: [(PendingCommand, SenderCore.FollowUp?)] = []
        for (d, result) in zip(dispatches, results) {
            switch result {
            case .success(let pending):
                pendings.append((pending, .operation(d.operation.id)))
                logger.info(
                    "pool command sent",
                    metadata: ["trigger": "\(d.trigger)", "client": "\(d.client)", "command": "\(d.command.name)"])
            case .failure(let error):
                state.recordError("\(d.command): \(error.message)", at: now, source: "trigger:\(d.trigger)")
                enqueuePool(await pool.settle(d.operation.id, error: error.message, now: now))
            }
        }
        return pendings
    }

    /// Sends `vm.list` to each host (journaled with the trigger ``PoolController/reconcileTrigger``, all in
    /// one transaction).
    func askForLists(_ hosts: [PoolController.HostList]) async -> [(PendingCommand, SenderCore.FollowUp?)] {
        let now = clock.now()
        let requests = hosts.map {
            Request(client: $0.host, name: "vm.list", arguments: [], trigger: PoolController.reconcileTrigger)
        }
        var pendings: [(PendingCommand, SenderCore.FollowUp?)] = []
        for (list, result) in zip(hosts, await submit(requests, at: now)) {
            switch result {
            case .success(let pending):
                pendings.append((pending, .list(list)))
            case .failure(let error):
                logger.notice("vm.list not sent", metadata: ["client": "\(list.host)", "error": "\(error)"])
            }
        }
        return pendings
    }
}
