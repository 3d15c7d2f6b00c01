import Foundation
import VEMNATS

#if canImport(Glibc)
    import Glibc
#endif

/// A `nats-server` this process started (tests, `vem bench bus --transport nats`): its ports, its PID, and a
/// stop by PID. Never assumes a server is running and never stops one it did not start.
public final class NATSServerProcess: @unchecked Sendable {
    // @unchecked: immutable after start apart from `process`, which Foundation makes thread-safe.

    /// One node's ports (all on 127.0.0.1).
    public struct Ports: Hashable, Sendable {
        /// The client port.
        public var client: Int
        /// The cluster (route) port.
        public var cluster: Int
        /// The HTTP monitor port (`/varz`).
        public var monitor: Int
    }

    /// The node's name (`n1`).
    public let name: String
    /// Its ports.
    public let ports: Ports
    /// Its configuration file.
    public let configPath: String
    /// Its log file.
    public let logPath: String
    let process: Process

    /// The client URL (`nats://127.0.0.1:<port>`).
    public var url: String { "nats://127.0.0.1:\(ports.client)" }
    /// The server's process id.
    public var pid: Int32 { process.processIdentifier }

    private init(name: String, ports: Ports, configPath: String, logPath: String, process: Process) {
        self.name = name
        self.ports = ports
        self.configPath = configPath
        self.logPath = logPath
        self.process = process
    }

    /// The `nats-server` executable (`/usr/sbin/nats-server`, else the first on `PATH`).
    public static func executable() throws(NATSError) -> String {
        var candidates = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/nats-server")
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw NATSError(.connect, "nats-server is not installed (scripts/install-deps installs it)")
        }
        return found
    }

    /// Writes `<directory>/<name>.conf` (listen, monitor and cluster ports chosen by the server itself, then
    /// `body`), starts the server, reads its ports from its log and waits until it answers with `INFO`.
    /// - Parameters:
    ///   - name: The node's name.
    ///   - routes: The cluster ports of nodes to route to (`nil`: a single server without a cluster block; empty:
    ///     a cluster node that only accepts routes).
    ///   - body: More configuration (the accounts from ``NATSAccountsConfig/text``, `ping_interval`, …).
    ///   - directory: A scratch directory (it must exist).
    ///   - timeout: How long to wait for it to answer.
    /// - Throws: ``NATSError/Code/connect`` when it does not start or answer (with the log's last lines).
    public static func start(
        name: String, routes: [Int]? = nil, body: String, directory: String, timeout: Duration = .seconds(10)
    ) async throws(NATSError) -> NATSServerProcess {
        // Port -1: the server binds a free port itself (no race with other tests), and logs it.
        var config = ["server_name: \(name)", "listen: 127.0.0.1:-1", "http: 127.0.0.1:-1"]
        if let routes {
            let list = routes.map { "nats-route://127.0.0.1:\($0)" }.joined(separator: ", ")
            config.append("cluster { name: vem, listen: 127.0.0.1:-1, routes: [\(list)] }")
        }
        config.append(body)
        let configPath = "\(directory)/\(name).conf"
        let logPath = "\(directory)/\(name).log"
        do {
            try config.joined(separator: "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        } catch {
            throw NATSError(.connect, "cannot write \(configPath): \(error)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = ["-c", configPath, "-l", logPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw NATSError(.connect, "cannot start nats-server: \(error)") }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, process.isRunning {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let client = port(in: log, after: "Listening for client connections on "),
                let monitor = port(in: log, after: "Starting http monitor on "),
                routes == nil || port(in: log, after: "Listening for route connections on ") != nil
            {
                let cluster = port(in: log, after: "Listening for route connections on ") ?? 0
                let server = NATSServerProcess(
                    name: name, ports: Ports(client: client, cluster: cluster, monitor: monitor), configPath: configPath,
                    logPath: logPath, process: process)
                if await offPool({ Self.answersINFO(port: client) }) { return server }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            await offPool { process.waitUntilExit() }
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw NATSError(
            .connect, "nats-server \(name) did not start: " + log.split(separator: "\n").suffix(3).joined(separator: " | "))
    }

    /// The port at the end of `127.0.0.1:<port>` after `marker` in a server log.
    static func port(in log: String, after marker: String) -> Int? {
        guard let range = log.range(of: marker) else { return nil }
        let rest = log[range.upperBound...].prefix { $0 != "\n" }
        guard let colon = rest.lastIndex(of: ":") else { return nil }
        return Int(rest[rest.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }

    /// Checks a configuration file with `nats-server -t -c` (off the cooperative pool).
    /// - Returns: Whether it is valid, and the server's output.
    public static func validate(configPath: String) async throws(NATSError) -> (valid: Bool, output: String) {
        let executable = try executable()
        return await offPool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-t", "-c", configPath]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            do { try process.run() } catch { return (false, "\(error)") }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus == 0, String(decoding: data, as: UTF8.self))
        }
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    public func stop() async {
        await signal(SIGTERM)
    }

    /// Kills the server with SIGKILL (no goodbye to its clients or routes) and waits for it to exit.
    public func kill() async {
        await signal(SIGKILL)
    }

    private func signal(_ number: Int32) async {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, number)
        let process = self.process
        await offPool { process.waitUntilExit() }
    }

    /// Connects to the port and reads the server's `INFO` line (200 ms timeouts).
    static func answersINFO(port: Int) -> Bool {
        guard let fd = connectLoopback(port: port, timeoutMicroseconds: 200_000) else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4)
        let count = recv(fd, &buffer, 4, Int32(MSG_WAITALL))
        return count == 4 && buffer == Array("INFO".utf8)
    }

    /// A TCP socket connected to 127.0.0.1:`port` whose reads time out after `timeoutMicroseconds`; the caller
    /// closes it. `nil` when it cannot connect.
    static func connectLoopback(port: Int, timeoutMicroseconds: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: timeoutMicroseconds / 1_000_000, tv_usec: timeoutMicroseconds % 1_000_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            return nil
        }
        return fd
    }
}
