import VEMPool

extension PoolController {
    /// Carries out an operator's action (``VEMPool/OperatorAction``) by `operatorName`: the reconciler's rules
    /// (``VEMPool/Reconciler/perform(_:by:now:)``), plus the checks that need the Manager's state (a host must be a
    /// Dom0 Client the Manager has known, or hold VMs of the pool). Draining a host rebalances at once (unless the
    /// planner is paused), so its VMs start moving without waiting for the next `policy.rebalance()`.
    /// - Returns: The commands to send, with the summary for the journal and the operator; or the refusal.
    func perform(
        _ action: OperatorAction, by operatorName: String, snapshot: StateSnapshot, now: Double
    ) -> (outcome: Outcome, summary: String?) {
        guard var reconciler else {
            return (Outcome(refusal: "the groups cannot be used: \(configurationError ?? "none configured")"), nil)
        }
        if case .drainHost(let host) = action {
            let known = snapshot.clients[host]?.identity.role == .dom0 || reconciler.vms.values.contains { $0.host == host }
            guard known else { return (Outcome(refusal: "no Dom0 Client named '\(host)' has joined"), nil) }
        }
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        let result: Reconciler.OperatorOutcome
        do {
            result = try reconciler.perform(action, by: operatorName, now: Int(now))
        } catch {
            self.reconciler = reconciler
            return (Outcome(refusal: error.message), nil)
        }
        self.reconciler = reconciler
        var outcome = dispatches(result.operations, trigger: operatorName, now: now)
        if case .drainHost = action, !reconciler.paused {
            let step = rebalance(snapshot, trigger: operatorName, now: now)
            outcome.dispatches += step.dispatches
            outcome.decisions += step.decisions
            if let refusal = step.refusal {
                return (outcome, result.summary + "; its VMs move at the next rebalance (now: \(refusal))")
            }
        }
        return (outcome, result.summary)
    }

    /// Whether the planner is paused, and the hosts being drained (`vem status`).
    func operatorState() -> (paused: Bool, drainedHosts: [String]) {
        (reconciler?.paused ?? false, (reconciler?.drainedHosts ?? []).sorted())
    }
}

extension PoolController {
    /// What the operator's actions hold now (none without usable groups).
    func operatorHolds() -> OperatorHolds { reconciler?.operatorHolds ?? OperatorHolds() }

    /// Takes back the operator's holds journaled before a restart (``VEMPool/Reconciler/restore(_:)``).
    func restore(_ holds: OperatorHolds) { reconciler?.restore(holds) }
}
