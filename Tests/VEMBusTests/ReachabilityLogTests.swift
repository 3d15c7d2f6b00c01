import Testing
import VEMBus

@Suite struct ReachabilityLogTests {
    @Test func failuresAreLoggedAtPowersOfTwoThenEvery32ndAndTheRecoveryOnce() {
        var log = ReachabilityLog()
        var logged: [Int] = []
        for _ in 1...100 where log.failed() { logged.append(log.failures) }
        #expect(logged == [1, 2, 4, 8, 16, 32, 64, 96])
        #expect(log.reached() == 100)
        #expect(log.reached() == nil)
        #expect(log.failed() && log.failures == 1)
    }
}
