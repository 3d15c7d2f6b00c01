import Foundation
import VEMProtocol
import VEMCore

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection to a running Manager, for replaying the security review's probes byte by byte. Every
/// blocking call runs on a dispatch queue, never on the cooperative pool.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Connects to `127.0.0.1:port` from `source` (any 127.x.y.z address: the Manager then sees that peer
    /// address). Nil when the connection cannot be made.
    static func open(port: Int, from source: String = "127.0.0.1") async -> RawConnection? {
        await offPool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            var remote = sockaddr_in()
            remote.sin_family = sa_family_t(AF_INET)
            remote.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
            let ok = withUnsafePointer(to: &local) { l in
                l.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0 && withUnsafePointer(to: &remote) { r in
                r.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            guard ok else {
                Glibc.close(fd)
                return nil
            }
            return RawConnection(fd: fd)
        }
    }

    /// Sends bytes; false when the peer has closed.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Sends one message as a frame.
    @discardableResult
    func send(_ message: Message) -> Bool { send((try? message.encodedFrame()) ?? []) }

    /// Reads until the peer closes or `seconds` pass: what arrived, and whether it closed.
    func readUntilClosed(seconds: Double) async -> (bytes: [UInt8], closed: Bool) {
        let fd = fd
        return await offPool {
            var received: [UInt8] = []
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { return (received, false) }
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pfd, 1, Int32(max(1, left * 1000)))
                if ready <= 0 { continue }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return (received, true) }
                received += buffer[0..<n]
            }
        }
    }

    /// Reads until the first complete message arrives, the peer closes or `seconds` pass.
    func firstMessage(seconds: Double = 30) async -> Message? {
        let fd = fd
        return await offPool {
            var decoder = FrameDecoder()
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while deadline.timeIntervalSinceNow > 0 {
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 100) <= 0 { continue }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return nil }
                decoder.append(buffer[0..<n])
                if let message = try? decoder.next() { return message }
            }
            return nil
        }
    }

    func close() { Glibc.close(fd) }

    /// Watches `connections` for `seconds` with one `poll` over all of them: the indices of those the peer closed
    /// before sending them a single byte.
    static func closedWithoutBytes(_ connections: [RawConnection], seconds: Double) async -> Set<Int> {
        let fds = connections.map(\.fd)
        return await offPool {
            var heard = Set<Int>()
            var closed = Set<Int>()
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while deadline.timeIntervalSinceNow > 0 {
                var pfds = fds.enumerated().filter { !closed.contains($0.offset) }.map {
                    pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0)
                }
                let open = fds.indices.filter { !closed.contains($0) }
                if pfds.isEmpty || poll(&pfds, nfds_t(pfds.count), 50) <= 0 { continue }
                for (k, pfd) in pfds.enumerated() where pfd.revents != 0 {
                    let i = open[k]
                    let n = buffer.withUnsafeMutableBytes { recv(pfd.fd, $0.baseAddress, $0.count, 0) }
                    if n > 0 { heard.insert(i) } else { closed.insert(i) }
                }
            }
            return closed.subtracting(heard)
        }
    }
}

/// A hello as a probe sends it.
func probeHello(
    _ name: String, role: ClientRole = .dom0, group: String? = nil, vmID: String? = nil, token: String,
    incarnation: UInt64 = UInt64.random(in: 1...UInt64.max)
) -> Message {
    .hello(
        Hello(
            name: name, role: role, host: "probe-host", group: group, vmID: vmID, version: "1.0.0",
            incarnation: incarnation, token: token))
}

/// Runs blocking work on a dispatch queue.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}
