import Foundation
import VEMTestSupport

/// A network namespace joined to the host by a veth pair on a private /24 (10.79.N.0/24): the host side is
/// `.1`, the namespace side `.2`. Stands for a VM's network. Deleted by ``remove()``.
struct NetworkNamespace: Sendable {
    /// The namespace's name (`/run/netns/<name>`).
    let name: String
    /// The host-side interface (at most 15 characters).
    let hostInterface: String
    /// The host's address on the link (slurmctld is reached there).
    let hostAddress: String
    /// The namespace's address (the node's `NodeAddr`).
    let address: String

    /// Creates a namespace with a subnet that no interface on the host uses yet.
    static func create(tag: String) async throws -> NetworkNamespace {
        let used = try await runTool("/usr/sbin/ip", ["-4", "-o", "addr", "show"])
        let start = Int(getpid()) % 200
        guard
            let n = (0..<250).map({ (start + $0) % 250 + 2 }).first(where: { !used.contains("10.79.\($0).") })
        else { throw HarnessError("no free 10.79.N.0/24 subnet") }
        let ns = NetworkNamespace(
            name: "vsl\(getpid())\(tag)", hostInterface: "vsh\(getpid() % 100_000)\(tag)",
            hostAddress: "10.79.\(n).1", address: "10.79.\(n).2")
        precondition(ns.hostInterface.count <= 15 && ns.name.count <= 15, "interface names must fit 15 characters")
        let ip = "/usr/sbin/ip"
        try await runTool(ip, ["netns", "add", ns.name])
        do {
            try await runTool(
                ip, ["link", "add", ns.hostInterface, "type", "veth", "peer", "name", "eth0", "netns", ns.name])
            try await runTool(ip, ["addr", "add", "\(ns.hostAddress)/24", "dev", ns.hostInterface])
            try await runTool(ip, ["link", "set", ns.hostInterface, "up"])
            try await runTool(ip, ["-n", ns.name, "addr", "add", "\(ns.address)/24", "dev", "eth0"])
            try await runTool(ip, ["-n", ns.name, "link", "set", "eth0", "up"])
            try await runTool(ip, ["-n", ns.name, "link", "set", "lo", "up"])
        } catch {
            await ns.remove()
            throw error
        }
        return ns
    }

    /// Deletes the veth pair and the namespace (errors ignored: they may be half made).
    func remove() async {
        _ = try? await runTool("/usr/sbin/ip", ["link", "del", hostInterface])
        _ = try? await runTool("/usr/sbin/ip", ["netns", "del", name])
    }

    /// Deletes namespaces (and their veth pairs) left by an earlier test process that died before its
    /// clean-up: names `vsl<pid>n<k>` whose process no longer exists.
    static func sweepStale() async {
        guard let list = try? await runTool("/usr/sbin/ip", ["netns", "list"]) else { return }
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix("vsl"), let n = name.dropFirst(3).firstIndex(of: "n"),
                let pid = Int32(name.dropFirst(3)[..<n]), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let tag = name.dropFirst(3)[n...]
            _ = try? await runTool("/usr/sbin/ip", ["link", "del", "vsh\(pid % 100_000)\(tag)"])
            _ = try? await runTool("/usr/sbin/ip", ["netns", "del", name])
        }
    }
}
