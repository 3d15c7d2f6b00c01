import VEMAgent

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

extension ClientService {
    /// SIGTERM and SIGINT stop the service. The handler only writes the signal's number to a pipe (async-signal
    /// safe, whichever thread the kernel picks); a dedicated thread reads it and asks the service to stop.
    /// (A `DispatchSource` signal source loses signals on Linux when they land on a thread that does not block them.)
    /// Call once per process.
    /// - Parameter warn: Told when the handlers cannot be installed.
    public nonisolated func stopOnTerminationSignals(warn: (String) -> Void) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            warn("warning: cannot install signal handlers; SIGTERM will kill the agent without a bye")
            return
        }
        let reader = fds[0]
        let started = startDetachedThread(named: "vem-signals") {
            var byte: UInt8 = 0
            while true {
                let n = read(reader, &byte, 1)
                if n == 1 {
                    self.stop(reason: Int32(byte) == SIGTERM ? "SIGTERM" : "SIGINT")
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
        guard started else {
            close(fds[0])
            close(fds[1])
            warn("warning: cannot start the signal thread; SIGTERM will kill the agent without a bye")
            return
        }
        signalPipe = fds[1]
        for number in [SIGTERM, SIGINT] {
            _ = signal(number) { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipe, &byte, 1)
            }
        }
    }
}

/// The write end of the signal pipe (set once, before the handlers are installed).
nonisolated(unsafe) private var signalPipe: Int32 = -1
