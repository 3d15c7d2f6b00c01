import Testing

@testable import VEMManager

/// What the Manager waits for before its clock moves on: property replies are owed by the Client asked, a Client
/// that leaves owes none, and a cancelled wait ends (a test's time limit cannot hang on it).
@Suite struct ManagerActivityTests {
    @Test func aClientThatLeavesOwesNoReply() async {
        let activity = ManagerActivity()
        activity.repliesExpected(from: ["a", "b"])
        #expect(!activity.isQuiet)
        activity.replyTaken(from: "a")
        #expect(!activity.isQuiet, "b has not answered")
        activity.replyTaken(from: "a")  // a second answer to one request counts for nothing
        #expect(activity.pending.replies == 1)
        activity.clientGone("b")
        #expect(activity.isQuiet)
        await activity.quiet()  // returns at once
    }

    @Test func twoRequestsToOneClientWantTwoReplies() {
        let activity = ManagerActivity()
        activity.repliesExpected(from: ["a"])
        activity.repliesExpected(from: ["a"])
        activity.replyTaken(from: "a")
        #expect(!activity.isQuiet)
        activity.replyTaken(from: "a")
        #expect(activity.isQuiet)
    }

    @Test func aWaiterIsWokenWhenTheLastReplyComes() async {
        let activity = ManagerActivity()
        activity.repliesExpected(from: ["a"])
        async let waited: Void = activity.quiet()
        activity.replyTaken(from: "a")
        await waited
        #expect(activity.isQuiet)
    }

    @Test func aCancelledWaitEnds() async {
        let activity = ManagerActivity()
        activity.repliesExpected(from: ["never"])
        let waiter = Task { await activity.quiet() }
        waiter.cancel()
        await waiter.value
        #expect(!activity.isQuiet, "cancelling a wait does not pretend the Manager is quiet")
    }
}
