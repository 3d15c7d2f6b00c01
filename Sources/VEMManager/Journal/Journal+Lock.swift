import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on a journal, held for a Manager's life, so that two Managers never run on one journal:
/// `flock` on `<journal>.lock` beside it, with the holder's PID written in it. Take it before the journal is
/// opened and recovered; the kernel releases it when the process ends, however it ends (a stale file left by a
/// killed Manager is no obstacle).
///
/// ```swift
/// let lock = try JournalLock.acquire(journal: path)   // "… in use by the Manager with PID 4242"
/// defer { withExtendedLifetime(lock) {} }
/// ```
public final class JournalLock: Sendable {
    /// The lock file.
    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// The lock file of a journal: `<journal>.lock`.
    public static func lockPath(journal: String) -> String { journal + ".lock" }

    /// Takes the lock of the journal at `journal`, without waiting.
    /// - Throws: ``ManagerError/Code/journalInUse`` naming the holder's PID when another process holds it;
    ///   ``ManagerError/Code/journal`` when the lock file cannot be opened.
    public static func acquire(journal: String) throws(ManagerError) -> JournalLock {
        let path = lockPath(journal: journal)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ManagerError(
                .journal, "cannot open the journal's lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            let holder = readHolder(fd)
            close(fd)
            guard error == EWOULDBLOCK else {
                throw ManagerError(.journal, "cannot lock the journal \(journal): \(String(cString: strerror(error)))")
            }
            let who = holder.map { "the Manager with PID \($0)" } ?? "another Manager (its PID is not written yet)"
            throw ManagerError(
                .journalInUse,
                "the journal \(journal) is in use by \(who) (lock \(path)); two Managers must not share a journal")
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return JournalLock(path: path, descriptor: fd)
    }

    /// The PID written in a lock file.
    private static func readHolder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    deinit { close(descriptor) }
}

extension ManagerError.Code {
    /// Another Manager holds the journal's lock.
    public static let journalInUse = ManagerError.Code(rawValue: "journal_in_use")
}
