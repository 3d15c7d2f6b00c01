import Foundation
import VEMNATS

#if canImport(Glibc)
    import Glibc
#endif

extension NATSServerProcess {
    /// Starts `count` servers on free loopback ports (`n1`, `n2`, …) with `body` (accounts etc.) in each
    /// configuration; with more than one, they form a cluster (the others route to `n1` and find each other
    /// through it) and this waits until every route is up.
    /// - Parameters:
    ///   - count: How many nodes.
    ///   - body: Configuration shared by all nodes.
    ///   - directory: A scratch directory for the configuration and log files.
    ///   - timeout: How long to wait for the servers and routes.
    /// - Throws: ``NATSError/Code/connect`` (the servers already started are stopped).
    public static func startCluster(
        count: Int, body: String, directory: String, timeout: Duration = .seconds(15)
    ) async throws(NATSError) -> [NATSServerProcess] {
        var servers: [NATSServerProcess] = []
        do throws(NATSError) {
            for index in 0..<count {
                let routes: [Int]? = count == 1 ? nil : servers.first.map { [$0.ports.cluster] } ?? []
                servers.append(
                    try await start(name: "n\(index + 1)", routes: routes, body: body, directory: directory, timeout: timeout))
            }
            if count > 1 {
                let deadline = ContinuousClock.now + timeout
                for server in servers {
                    while await server.routeCount() < count - 1 {
                        guard ContinuousClock.now < deadline else {
                            throw NATSError(.connect, "the cluster's routes did not come up (see \(server.logPath))")
                        }
                        try? await Task.sleep(for: .milliseconds(25))
                    }
                }
            }
        } catch {
            for server in servers { await server.stop() }
            throw error
        }
        return servers
    }

    /// The number of routes the server reports on its monitor's `/routez` (0 when it does not answer).
    public func routeCount() async -> Int {
        let port = ports.monitor
        let body = await offPool { Self.httpGet(port: port, path: "/routez") } ?? ""
        guard let range = body.range(of: "\"num_routes\":") else { return 0 }
        let digits = body[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber }
        return Int(digits) ?? 0
    }

    /// A minimal HTTP/1.0 GET on 127.0.0.1 (1 s timeouts); the response body, or `nil`.
    static func httpGet(port: Int, path: String) -> String? {
        guard let fd = connectLoopback(port: port, timeoutMicroseconds: 1_000_000) else { return nil }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        return String(text[split.upperBound...])
    }
}
