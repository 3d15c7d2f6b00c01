import Foundation
import Synchronization
import VEMTrust

#if canImport(Glibc)
    import Glibc
#endif

/// The throwaway site CA of `vem bench bus --tls`: a scratch directory laid out as `vem ca init` and
/// `vem ca issue` lay it out (`ca.pem`, `ca.key`, `NAME.pem`, `NAME.key`), with the Manager's certificate (for
/// 127.0.0.1) and one certificate of its own per simulated Client (`sim0`, `sim1`, …, role domU, group
/// ``group``). The hub checks every hello against its connection's certificate, so no certificate is shared.
struct BenchTrust: Sendable {
    /// The group every simulated Client's certificate names (a guest certificate must name one).
    static let group = "bench"
    /// The Manager's certificate name.
    static let managerName = "manager"

    /// The scratch directory.
    let directory: SiteCADirectory
    /// Certificates issued (the Manager's and the Clients').
    let issued: Int
    /// Wall-clock time to create the CA and issue (and write) every certificate.
    let issueMilliseconds: Double

    /// The hub's files: the site CA, the Manager's certificate and key.
    var serverFiles: TLSFiles { Self.files(in: directory.path, name: Self.managerName) }

    /// Creates the CA and issues the Manager's certificate and `clients` Client certificates, on every core.
    /// - Throws: ``BenchError`` when the directory or a certificate cannot be written.
    static func create(clients: Int) throws -> BenchTrust {
        let start = ContinuousClock.now
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vem-bench-tls-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        let directory = SiteCADirectory(path: path)
        do {
            let ca = try directory.initialize(commonName: "VEM bench CA (throwaway)", days: 2)
            _ = try directory.issue(name: managerName, role: .manager, hosts: ["127.0.0.1"], days: 2)
            let chunks = max(1, min(clients, ProcessInfo.processInfo.activeProcessorCount * 4))
            let failure = Mutex<String?>(nil)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                for index in stride(from: chunk, to: clients, by: chunks) {
                    do {
                        let issued = try ca.issue(name: "sim\(index)", role: .domU, group: group, days: 2)
                        let files = Self.files(in: path, name: "sim\(index)")
                        try write(issued.keyPEM, to: files.key, mode: 0o600)
                        try write(issued.certificatePEM, to: files.certificate, mode: 0o644)
                    } catch {
                        failure.withLock { $0 = $0 ?? "sim\(index): \(error)" }
                        return
                    }
                }
            }
            if let failure = failure.withLock({ $0 }) { throw BenchError("cannot issue a bench certificate: \(failure)") }
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError("cannot create the bench CA in \(path): \(error)")
        }
        return BenchTrust(
            directory: directory, issued: clients + 1, issueMilliseconds: (ContinuousClock.now - start).milliseconds)
    }

    /// The files of the holder `name` in the scratch directory `path` (the site CA, its certificate and key).
    static func files(in path: String, name: String) -> TLSFiles {
        let directory = SiteCADirectory(path: path)
        return TLSFiles(
            ca: directory.certificatePath, certificate: directory.file("\(name).pem"), key: directory.file("\(name).key"))
    }

    /// Removes the scratch directory (keys included).
    func remove() { try? FileManager.default.removeItem(atPath: directory.path) }

    /// Writes `text` to a new file created with `mode`.
    private static func write(_ text: String, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw BenchError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard close(fd) == 0, written == bytes.count else { throw BenchError("cannot write \(path)") }
    }
}
