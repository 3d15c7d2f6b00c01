import Testing
import VEMProtocol

@testable import VEMBus
@testable import VEMHub
@testable import VEMTestKit

@Suite("Pure parts")
struct PureTests {
    @Test func backoffGrowsCapsAndJitters() {
        var backoff = Backoff(configuration: .init(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0.5))
        var random = SeededRandom(seed: 1)
        var delays: [Duration] = []
        for _ in 0..<8 { delays.append(backoff.nextDelay(using: &random)) }
        let bases: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
            .seconds(1), .seconds(1), .seconds(1), .seconds(1)]
        for (delay, base) in zip(delays, bases) {
            #expect(delay <= base && delay >= base / 2, "\(delay) within [base/2, base] of \(base)")
        }
        #expect(Set(delays).count > 4, "jittered")
        backoff.reset()
        let afterReset = backoff.nextDelay(using: &random)
        #expect(afterReset <= .milliseconds(100))
        var noJitter = Backoff(configuration: .init(initial: .milliseconds(10), jitter: 0))
        let plain = [noJitter.nextDelay(using: &random), noJitter.nextDelay(using: &random)]
        #expect(plain == [.milliseconds(10), .milliseconds(20)])
    }

    @Test func livenessSendsHeartbeatsAndTimesOutWithinTwoIntervals() {
        let interval: Int64 = 1_000
        var liveness = Liveness(intervalNanoseconds: interval, now: 0)
        #expect(liveness.checkPeriodNanoseconds == 250)
        #expect(liveness.detectionBoundNanoseconds == 1_750, "the promise is 2 intervals, with a quarter to spare")
        var actions: [Liveness.Action] = []
        actions.append(liveness.tick(now: 250))
        actions.append(liveness.tick(now: 500))  // idle for half an interval: heartbeat
        liveness.didRead(now: 600)
        liveness.didWrite(now: 700)
        actions.append(liveness.tick(now: 750))
        actions.append(liveness.tick(now: 1_000))
        actions.append(liveness.tick(now: 1_250))  // idle since 700
        actions.append(liveness.tick(now: 2_000))  // silent since 600 for 1.4 intervals: not yet
        actions.append(liveness.tick(now: 2_250))  // 1.65 intervals
        #expect(actions == [.none, .sendHeartbeat, .none, .none, .sendHeartbeat, .sendHeartbeat, .timeout])
    }

    @Test func aSilentPeerIsDeclaredGoneBetweenOneAndAHalfAndOneAndThreeQuarterIntervalsWhateverThePhase() {
        let interval: Int64 = 1_000
        for lastFrame in stride(from: Int64(0), to: 250, by: 7) {
            var liveness = Liveness(intervalNanoseconds: interval, now: 0)
            liveness.didRead(now: lastFrame)
            var now: Int64 = 0
            var gone: Int64?
            while gone == nil, now < 10 * interval {
                now += liveness.checkPeriodNanoseconds
                if liveness.tick(now: now) == .timeout { gone = now }
            }
            let silence = (gone ?? .max) - lastFrame
            #expect(silence >= 1_500 && silence <= liveness.detectionBoundNanoseconds, "phase \(lastFrame): \(silence)")
        }
    }

    @Test func aLivePeersHeartbeatsNeverComeCloseToTheTimeout() {
        // Both sides tick every quarter interval, out of phase: the gap between two frames a peer sends stays at
        // most 0.75 intervals, half an interval inside the 1.5-interval timeout.
        let interval: Int64 = 1_000
        var sender = Liveness(intervalNanoseconds: interval, now: 0)
        var lastSent: Int64 = 0
        var longestGap: Int64 = 0
        var now: Int64 = 113
        while now < 20 * interval {
            if sender.tick(now: now) == .sendHeartbeat {
                longestGap = max(longestGap, now - lastSent)
                lastSent = now
            }
            sender.didRead(now: now)  // the other side is alive too
            now += sender.checkPeriodNanoseconds
        }
        #expect(longestGap <= 750, "\(longestGap)")
    }

    @Test func tokenBucketRefillsAtItsRate() {
        var bucket = TokenBucket(ratePerSecond: 1_000, burst: 10, now: 0)
        var taken = 0
        for _ in 0..<10 where bucket.take(now: 0) { taken += 1 }
        #expect(taken == 10)
        #expect(bucket.refillNanoseconds > 4_000_000 && bucket.refillNanoseconds <= 5_000_001)
        var overshoot = 0
        for _ in 0..<20 where !bucket.take(now: 0) { overshoot += 1 }
        #expect(overshoot == 20, "messages already read are counted as debt")
        #expect(bucket.refillNanoseconds > 24_000_000, "the pause pays the debt: \(bucket.refillNanoseconds)")
        let later = bucket.take(now: 30_000_000)  // 30 ms later: the debt of 20 is paid, 9 tokens left
        #expect(later)
    }

    @Test func admissionChecksTokensAndVersions() {
        let shared = Admission(sharedToken: "t", managerVersion: "1.4.2")
        func hello(_ name: String = "a", token: String = "t", version: String = "1.0.0") -> Hello {
            Hello(name: name, role: .dom0, host: "h", version: version, incarnation: 1, token: token)
        }
        #expect(shared.check(hello()) == nil)
        #expect(shared.check(hello(token: "x"))?.reason == .badCredentials)
        #expect(shared.check(hello(token: ""))?.reason == .badCredentials)
        #expect(shared.check(hello(version: "2.0.0"))?.reason == .unsupportedVersion)
        #expect(shared.check(hello(version: "garbage"))?.reason == .unsupportedVersion)
        #expect(shared.check(hello(""))?.reason == .forbidden)
        let perClient = Admission(perClientTokens: ["a": .init(token: "ta", role: .dom0), "b": .init(token: "tb", role: .dom0)])
        #expect(perClient.check(hello("a", token: "ta")) == nil)
        #expect(perClient.check(hello("a", token: "tb"))?.reason == .badCredentials)
        #expect(perClient.check(hello("c", token: "ta"))?.reason == .forbidden)
        #expect(Admission().check(hello(token: "anything")) == nil)
    }

    @Test func pendingCommandResolvesOnce() async {
        let pending = PendingCommand(client: "a", seq: 3)
        #expect(pending.currentOutcome == nil)
        pending.resolve(.unknown)
        pending.resolve(.cancelled)
        #expect(await pending.outcome() == .unknown)
        #expect(pending.currentOutcome == .unknown)
    }

    @Test func roundTableCompletesOnLastReplyAndIgnoresStrangers() {
        var table = RoundTable()
        let id = table.open(expecting: ["a", "b"])
        let report = PropertyReport(requestID: id, readings: [])
        var woken = 0
        for name in ["stranger", "a", "a", "b"] where table.reply(report, from: name).completion != nil { woken += 1 }
        #expect(table.reply(PropertyReport(requestID: id + 1, readings: []), from: "a").known == false)
        #expect(woken == 0, "complete, but nobody is attached yet")
        #expect(table.contains(id))
        let finished = table.finish(id) != nil
        #expect(!finished, "already complete: a timeout changes nothing")
    }
}

