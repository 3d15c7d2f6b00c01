import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension Journal {
    /// Makes the journal file private before SQLite opens it: created with mode 0600 when missing, narrowed to
    /// 0600 when it exists (SQLite gives its `-journal` and `-wal` files the database file's mode). The journal
    /// holds every command and result, which may name hosts, paths and users.
    /// - Parameter path: The journal file.
    /// - Throws: ``ManagerError/Code/journal`` when the file cannot be created or its mode set.
    static func makePrivate(_ path: String) throws(ManagerError) {
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ManagerError(.journal, "cannot create the journal \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        if fchmod(fd, 0o600) != 0 {
            throw ManagerError(.journal, "cannot make the journal \(path) private: \(String(cString: strerror(errno)))")
        }
    }
}
