#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `body` on a new detached POSIX thread named `name` (at most 15 bytes are kept): Foundation's `Thread`
/// without Foundation (issue 21: the guest's agent links FoundationEssentials only). For work that blocks in system
/// calls (waiting for a child, reading the signal pipe), which must not hold a thread of Swift's cooperative pool.
/// - Parameters:
///   - name: The thread's name, as `ps -L` and debuggers show it.
///   - body: What the thread runs; the thread ends with it.
/// - Returns: `false` when no thread could be started (`body` did not run).
@discardableResult
public func startDetachedThread(named name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    #if canImport(Glibc)
        var thread = pthread_t()
    #else
        var thread: pthread_t?
    #endif
    let started = pthread_create(
        &thread, nil,
        { raw in
            guard let raw else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
    guard started == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        return false
    }
    #if canImport(Glibc)
        pthread_detach(thread)
    #else
        if let thread { pthread_detach(thread) }
    #endif
    return true
}

/// The closure handed to the new thread.
private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
