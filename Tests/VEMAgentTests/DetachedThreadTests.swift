import Synchronization
import Testing
import VEMAgent

#if canImport(Glibc)
    import Glibc
#endif

/// `startDetachedThread`, Foundation's `Thread` without Foundation (issue 21): the body runs, off the caller.
@Suite struct DetachedThreadTests {
    @Test func runsTheBodyOnAnotherThread() async {
        let ran = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let caller = pthread_self()
            let started = startDetachedThread(named: "vem-test") {
                continuation.resume(returning: pthread_equal(pthread_self(), caller) == 0)
            }
            if !started { continuation.resume(returning: false) }
        }
        #expect(ran)
    }
}
