import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension LoggingTestClient {
    /// Runs until standard input reaches end of file, then exits the process: a test (or bench) that started
    /// it with a pipe never leaves it behind.
    public func runUntilEndOfInput() async throws {
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while read(STDIN_FILENO, &byte, 1) > 0 {}
            exit(0)
        }
        try await run()
    }

    /// Runs until SIGTERM, which ends it gracefully (it says `bye`, so the Manager knows at once that commands
    /// it never confirmed have an unknown outcome); SIGKILL gives no such chance.
    public func runUntilTerminated() async throws {
        signal(SIGTERM, SIG_IGN)
        let task = Task { try await run() }
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler { task.cancel() }
        source.resume()
        defer { source.cancel() }
        try await task.value
    }
}
