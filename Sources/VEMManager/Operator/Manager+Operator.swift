import VEMPool

extension Manager {
    /// What an operator's action came to.
    public struct ActionReport: Sendable, Hashable, Codable {
        /// The action (`vem host drain h1`).
        public var action: String
        /// Who asked (`operator@127.0.0.1`).
        public var operatorName: String
        /// Whether it was carried out.
        public var accepted: Bool
        /// What happened, or why it was refused.
        public var message: String
        /// Commands sent for it now.
        public var commands: Int

        private enum CodingKeys: String, CodingKey {
            case action, accepted, message, commands
            case operatorName = "operator"
        }
    }

    /// Carries out an operator's action (`vem pause`, `vem host drain HOST`, `vem vm forget VM`, …) by
    /// `operatorName`: journaled as a decision whose trigger is the operator, accepted or refused; the pool's
    /// decisions that follow are journaled under the operator's name too, and their commands sent.
    public func perform(_ action: OperatorAction, by operatorName: String) async -> ActionReport {
        let now = clock.now()
        let (outcome, summary) = await pool.perform(action, by: operatorName, snapshot: state.snapshot(at: now), now: now)
        let accepted = outcome.refusal == nil || summary != nil
        let message = summary ?? "refused: \(outcome.refusal ?? "")"
        let decision = DecisionRecord(time: now, trigger: operatorName, action: action.description, reason: message)
        do {
            // A pause or a host drain holds until undone: journaled with its decision, restored after a restart.
            if accepted, OperatorHolds.isChanged(by: action) {
                try await journal.recordOperatorDecision(decision, holds: await pool.operatorHolds(), by: operatorName)
            } else {
                try await journal.recordDecision(decision)
            }
        } catch {
            state.recordError("\(error)", at: now, source: "journal")
        }
        if accepted {
            logger.notice("operator action", metadata: ["operator": "\(operatorName)", "action": "\(action)", "result": "\(message)"])
            var carried = outcome
            carried.refusal = nil
            sender.enqueuePool(carried)
        } else {
            logger.warning("operator action refused", metadata: ["operator": "\(operatorName)", "action": "\(action)", "reason": "\(message)"])
        }
        return ActionReport(
            action: action.description, operatorName: operatorName, accepted: accepted, message: message,
            commands: accepted ? outcome.dispatches.count : 0)
    }
}
