import Logging
import VEMRules
import VEMSite

/// A pass: the triggers the schedule named, evaluated against one snapshot; their actions go to the Sender.
extension TriggerWatch {
    /// Evaluates the triggers at `indices` against one snapshot; `tick` is when the step began
    /// (``Sender/uptimeNanoseconds()``: a trigger's actions are timed from it).
    /// (A pass for an older generation than the current one is skipped: a reload came in between.)
    func pass(_ indices: [Int], of number: Int, reason: String, tick: UInt64 = Sender.uptimeNanoseconds()) {
        guard !indices.isEmpty else { return }
        passLock.withLock { _ in
            let generation = current.withLock { $0 }
            guard generation.number == number else { return }
            let now = clock.now()
            // Built at the first read of `manager` in this pass (many passes never read it; `vem.poll`'s
            // `len(manager.clients)` only counts).
            let manager = LazyManagerObject(snapshot: { [state] in state.snapshot(at: now) }) { [self] snapshot in
                let demand = decodedDemand.withLock { cache in
                    try? PoolInputs.batch(in: snapshot, configured: generation.demandProperties, cache: &cache).get().batch
                }
                return WorldView(
                    snapshot, groups: generation.groups, demand: demand, pool: poolVMs(),
                    declaredProperties: generation.declaredProperties
                ).managerObject
            }
            for i in indices { evaluate(generation.triggers[i], index: i, manager: manager, at: now, tick: tick) }
            passes.add(1, ordering: .releasing)
        }
    }

    private func evaluate(
        _ trigger: CompiledTrigger, index: Int, manager: any HostObject, at now: Double, tick: UInt64
    ) {
        let started = ContinuousClock.now
        let collector = ActionCollector()
        let globals = collector.globals(manager: manager)
        var fired = false
        var failure: RuleError?
        do {
            fired = try trigger.condition.evaluate(globals: globals, limits: trigger.limits, trigger: trigger.name)
                .isTruthy
            if fired {
                let actionCollector = ActionCollector()
                _ = try trigger.action.evaluate(
                    globals: actionCollector.globals(manager: manager), limits: trigger.limits, trigger: trigger.name)
                sender.enqueue(actionCollector.actions, trigger: trigger.name, tick: tick)
                stats.withLock { $0[index].actions += actionCollector.actions.count }
            }
        } catch {
            failure = error
        }
        let elapsed = ContinuousClock.now - started
        metrics?.triggerEvaluated(
            trigger.name, result: failure != nil ? "error" : fired ? "true" : "false", duration: elapsed)
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        stats.withLock { all in
            var s = all[index]
            s.evaluations += 1
            s.lastEvaluation = now
            s.lastDurationMilliseconds = milliseconds
            if let failure {
                s.errors += 1
                if failure.code == .budget { s.budgetExceeded += 1 }
                s.lastResult = "error"
                s.lastError = failure.description
                s.lastErrorTime = now
            } else {
                if fired { s.fired += 1 }
                s.lastResult = fired ? "true" : "false"
            }
            all[index] = s
        }
        if let failure {
            logger.warning(
                "trigger failed", metadata: ["trigger": "\(trigger.name)", "error": "\(failure.description)"])
            state.recordError(failure.description, at: now, source: "trigger:\(trigger.name)")
        }
    }
}
