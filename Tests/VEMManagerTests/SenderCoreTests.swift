import Testing
import VEMBus
import VEMCore
import VEMProtocol

@testable import VEMManager

/// The Sender's instance on its own: coalescing, numbering, outcomes. No bus, journal or clock.
@Suite struct SenderCoreTests {
    typealias Request = SenderCore.Request

    @Test func atMostOneRebalanceWaitsInTheQueue() {
        var core = SenderCore()
        let r1 = core.enqueue([.rebalance, .log("a"), .rebalance])
        #expect(r1 == [.rebalance, .log("a")])
        let r2 = core.enqueue([.rebalance])
        #expect(r2 == [])
        let r3 = core.enqueue([.log("b"), .rebalance])
        #expect(r3 == [.log("b")])
        #expect(core.rebalancesCoalesced == 2)
        // Once the queued one starts, the next is queued again: it plans after it.
        core.rebalanceStarted()
        let r4 = core.enqueue([.rebalance])
        #expect(r4 == [.rebalance])
        let r5 = core.enqueue([.log("c")])
        #expect(r5 == [.log("c")])
        #expect(core.rebalancesCoalesced == 2)
    }

    @Test func aRebalanceThatChangedNothingIsJournaledOnceUntilItsOutcomeDiffers() {
        var core = SenderCore()
        let r6 = core.rebalanceFinished(trigger: "t", reason: "not run: no batch client", changed: false)
        #expect(r6)
        #expect(core.isRepeatedRefusal("no batch client", trigger: "t"))
        let r7 = core.rebalanceFinished(trigger: "t", reason: "not run: no batch client", changed: false)
        #expect(!r7)
        let r8 = core.rebalanceFinished(trigger: "other", reason: "not run: no batch client", changed: false)
        #expect(r8)
        let r9 = core.rebalanceFinished(trigger: "t", reason: "planned 2 operations", changed: true)
        #expect(r9)
        #expect(!core.isRepeatedRefusal("no batch client", trigger: "t"))
        let r10 = core.rebalanceFinished(trigger: "t", reason: "not run: no batch client", changed: false)
        #expect(r10)
    }

    @Test func commandsAreNumberedPerClientAndAClientNeverSeenIsRefused() {
        var core = SenderCore()
        let requests = [
            Request(client: "h1", name: "a", arguments: [], trigger: "t"),
            Request(client: "ghost", name: "b", arguments: [], trigger: "t"),
            Request(client: "h1", name: "c", arguments: [], trigger: "t"),
            Request(client: "h2", name: "d", arguments: [], trigger: "t"),
        ]
        let numbering = core.number(requests) { $0 != "ghost" }
        #expect(numbering.predicted == [1, 0, 2, 1])
        #expect(numbering.refusals == [1: "no client named ghost has ever joined"])
        #expect(numbering.commands.map(\.seq) == [1, 2, 1])
        // Numbering alone uses nothing up: the bus's hand-off does.
        #expect(core.number([requests[0]]) { _ in true }.predicted == [1])
        let sent = core.handed(requests[0], seq: 1, predicted: 1, connected: true)
        #expect(sent?.state == .sent && sent?.seq == 1)
        let queued = core.handed(requests[2], seq: 2, predicted: 2, connected: false)
        #expect(queued == nil)  // queued until its Client is back
        #expect(core.commandsSent == 2)
        #expect(core.number([requests[0]]) { _ in false }.predicted == [3])  // known by its numbers now
        let failed = core.handed(requests[3], seq: nil, predicted: 1, connected: true, error: "closed")
        #expect(failed?.state == .failed && failed?.result == "not sent: closed")
        #expect(core.commandsSent == 2)
        #expect(core.lastSeq == ["h1": 2, "h2": 1])
    }

    @Test func aRecoveredStreamContinuesItsNumbers() {
        var core = SenderCore()
        core.adopt(client: "h1", through: 41)
        let request = Request(client: "h1", name: "a", arguments: [], trigger: "t")
        #expect(core.number([request]) { _ in false }.predicted == [42])
    }

    @Test func anOutcomeIsJournaledAndTheOperationItCarriedOutSettled() {
        var core = SenderCore()
        let key = SenderCore.Key(client: "h1", seq: 3)
        core.watch(key, followUp: .operation(7))
        let failed = core.outcome(.result(CommandResult(seq: 3, status: .failed, error: "no room")), of: key)
        #expect(failed.state == .failed)
        #expect(failed.settle?.operation == 7 && failed.settle?.error == "no room")
        #expect(core.followUps.isEmpty)
        core.outcomeJournaled()
        #expect(core.outcomesRecorded == 1)

        core.watch(key, followUp: .operation(8))
        let unknown = core.outcome(.unknown, of: key)
        #expect(unknown.state == .unknown)
        #expect(unknown.settle?.error == "outcome unknown: the client went away")

        core.watch(key, followUp: .operation(9))
        let done = core.outcome(.result(CommandResult(seq: 3, status: .ok)), of: key)
        #expect(done.state == .done && done.settle?.operation == 9 && done.settle?.error == nil)
    }

    @Test func aHostListIsReconciledOnlyFromAWholeSuccessfulOutput() {
        var core = SenderCore()
        let key = SenderCore.Key(client: "h1", seq: 1)
        let list = PoolController.HostList(host: "h1", mark: 4)
        core.watch(key, followUp: .list(list))
        let ok = core.outcome(.result(CommandResult(seq: 1, status: .ok, output: "[]")), of: key)
        #expect(ok.reconcile?.list == list && ok.reconcile?.output == "[]")
        core.watch(key, followUp: .list(list))
        let cut = core.outcome(.result(CommandResult(seq: 1, status: .ok, output: "[", outputTruncated: true)), of: key)
        #expect(cut.reconcile == nil && cut.state == .done)
        // A command nobody follows up (a trigger's own) is only journaled.
        let plain = core.outcome(.cancelled, of: SenderCore.Key(client: "h2", seq: 1))
        #expect(plain.state == .failed && plain.settle == nil && plain.reconcile == nil)
    }
}
