import Foundation
import Testing
import VEMAgent
import VEMLibvirt

#if canImport(Glibc)
    import Glibc
#endif

/// A system-mode `libvirtd` started by a test, in a private mount namespace.
///
/// libvirtd in system mode writes to fixed paths (/run/libvirt, /var/lib/libvirt, /var/log/libvirt,
/// /var/cache/libvirt, /etc/libvirt). Each daemon runs under `unshare -m --propagation private` with those
/// paths bind-mounted from its own scratch folder, so two daemons (a migration source and destination) and
/// the host never see each other's state. QEMU runs as root without cgroups, security drivers or virtlogd
/// (`stdio_handler = "file"`); each daemon has its own `host_uuid` (libvirt refuses to migrate to "the same
/// host"). ``stop()`` destroys what is left and ends QEMU and the daemon by the PIDs in their pid files.
struct Libvirtd {
    let base: URL
    let socket: String
    let pidFile: String

    /// The URI a client (or a peer daemon) reaches this daemon by.
    var uri: String { "qemu+unix:///system?socket=\(socket)" }

    /// Starts a daemon in `base` and waits until it answers.
    static func start(in base: URL, hostUUID: String) async throws -> Libvirtd {
        let fm = FileManager.default
        for sub in ["run", "lib", "log", "cache", "etc", "sock"] {
            try fm.createDirectory(at: base.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let b = base.path
        let conf = """
            unix_sock_dir = "\(b)/sock"
            unix_sock_group = "root"
            unix_sock_rw_perms = "0770"
            auth_unix_rw = "none"
            auth_unix_ro = "none"
            host_uuid = "\(hostUUID)"
            log_level = 3
            log_outputs = "3:file:\(b)/libvirtd.log"

            """
        try conf.write(toFile: "\(b)/libvirtd.conf", atomically: true, encoding: .utf8)
        try rootQEMUConf.write(toFile: "\(b)/etc/qemu.conf", atomically: true, encoding: .utf8)
        let script = """
            set -e
            mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt
            mount --bind '\(b)/run' /run/libvirt
            mount --bind '\(b)/lib' /var/lib/libvirt
            mount --bind '\(b)/log' /var/log/libvirt
            mount --bind '\(b)/cache' /var/cache/libvirt
            mount --bind '\(b)/etc' /etc/libvirt
            exec libvirtd -d -f '\(b)/libvirtd.conf' -p '\(b)/libvirtd.pid'

            """
        try script.write(toFile: "\(b)/start.sh", atomically: true, encoding: .utf8)
        let daemon = Libvirtd(base: base, socket: "\(b)/sock/libvirt-sock", pidFile: "\(b)/libvirtd.pid")
        let status = try await runProcess(
            "/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "\(b)/start.sh"])
        guard status == 0 else {
            Issue.record("libvirtd did not start (exit \(status)); log: \(daemon.logTail)")
            throw CancellationError()
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(20))
        while clock.now < deadline {
            if fm.fileExists(atPath: daemon.socket), let c = try? await LibvirtConnection.open(daemon.uri) {
                await c.close()
                return daemon
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await daemon.stop()
        Issue.record("libvirtd in \(b) did not answer within 20 s; log: \(daemon.logTail)")
        throw CancellationError()
    }

    /// The end of the daemon's log, for failure messages.
    var logTail: String {
        let text = (try? String(contentsOfFile: base.path + "/libvirtd.log", encoding: .utf8)) ?? "(no log)"
        return String(text.suffix(2000))
    }

    /// Destroys the daemon's guests and ends QEMU and libvirtd by PID (SIGTERM, then SIGKILL after 10 s).
    func stop() async {
        if let c = try? await LibvirtConnection.open(uri) {
            for d in (try? await c.domains()) ?? [] where d.state.isActive { try? await c.destroy(d.name) }
            await c.close()
        }
        let qemuDir = base.appendingPathComponent("run/qemu")
        for file in (try? FileManager.default.contentsOfDirectory(atPath: qemuDir.path)) ?? []
        where file.hasSuffix(".pid") {
            if let pid = readPid(qemuDir.appendingPathComponent(file).path) { await terminate(pid) }
        }
        if let pid = readPid(pidFile) { await terminate(pid) }
    }
}

/// Runs a scoped pair of daemons (or one) and always stops them, also when `body` throws.
func withLibvirtd<T>(
    _ scratch: URL, count: Int, _ body: ([Libvirtd]) async throws -> T
) async throws -> T {
    await reapStaleDaemons()
    var daemons: [Libvirtd] = []
    do {
        for i in 1...count {
            // Distinct per daemon (libvirt refuses to migrate to "the same host") and not all one digit (libvirt
            // rejects such host UUIDs).
            let d = String(i % 10)
            let uuid = [
                String(repeating: d, count: 8), String(repeating: d, count: 4), "4" + String(repeating: d, count: 3),
                "8" + String(repeating: d, count: 3), String(repeating: d, count: 12),
            ].joined(separator: "-")
            daemons.append(try await Libvirtd.start(in: scratch.appendingPathComponent("lv\(i)"), hostUUID: uuid))
        }
        let result = try await body(daemons)
        for d in daemons { await d.stop() }
        return result
    } catch {
        for d in daemons {
            print("libvirtd \(d.base.lastPathComponent) log tail:\n\(d.logTail)")
            await d.stop()
        }
        throw error
    }
}

/// Stops daemons left behind by an earlier test process that crashed (its scratch folder names its PID and
/// that process is gone), by the PIDs in their pid files, and removes the folder.
func reapStaleDaemons() async {
    let tmp = URL(fileURLWithPath: NSTemporaryDirectory())
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
    where entry.hasPrefix("vem-libvirt-") {
        let parts = entry.split(separator: "-")
        guard parts.count >= 5, let owner = pid_t(parts[parts.count - 2]), owner != getpid(), kill(owner, 0) != 0 else {
            continue
        }
        let dir = tmp.appendingPathComponent(entry)
        for lv in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where lv.hasPrefix("lv") {
            let base = dir.appendingPathComponent(lv)
            let daemon = Libvirtd(
                base: base, socket: base.path + "/sock/libvirt-sock", pidFile: base.path + "/libvirtd.pid")
            print("reaping libvirtd left by dead test process \(owner) in \(base.path)")
            await daemon.stop()
        }
        try? FileManager.default.removeItem(at: dir)
    }
}

func readPid(_ path: String) -> pid_t? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
}

/// SIGTERM, wait up to 10 s for the process to go, then SIGKILL.
func terminate(_ pid: pid_t) async {
    guard pid > 1, kill(pid, 0) == 0 else { return }
    kill(pid, SIGTERM)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(10))
    while clock.now < deadline {
        if kill(pid, 0) != 0 { return }
        try? await Task.sleep(for: .milliseconds(50))
    }
    kill(pid, SIGKILL)
}

/// Runs a program to completion and returns its exit status (`posix_spawn`, then `waitpid` on a thread of
/// its own: Foundation's Process did not notice the exit of `libvirtd -d`'s parent here).
func runProcess(_ program: String, _ arguments: [String]) async throws -> Int32 {
    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    // The daemon inherits no descriptor beyond 0-2 (a test's listening socket would otherwise stay bound by
    // libvirtd after the test closed it).
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    closeInheritedDescriptors(&actions)
    let rc = posix_spawn(&pid, program, &actions, nil, argv, environ)
    guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
    let child = pid
    return await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) == -1 && errno == EINTR {}
            let exited = (status & 0x7f) == 0
            continuation.resume(returning: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f))
        }
    }
}
