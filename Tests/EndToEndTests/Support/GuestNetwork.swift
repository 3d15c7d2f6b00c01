import Foundation
import VEMTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A network namespace joined to the host by a veth pair on a private /24 (10.78.N.0/24; the Slurm suite uses
/// 10.79.N.0/24 in the same test process): the host side is `.1`, the namespace side `.2`, and the namespace's
/// default route goes to the host, so a process inside reaches every address of the host (the Manager's hub on
/// another link's host side, slurmctld). Stands for a VM's network, or the link the Manager listens on.
struct GuestNetwork: Sendable {
    /// The namespace's name (`/run/netns/<name>`).
    let name: String
    /// The host-side interface (at most 15 characters).
    let hostInterface: String
    /// The host's address on the link.
    let hostAddress: String
    /// The namespace's address (the VM's address: its Client's peer address and its node's `NodeAddr`).
    let address: String

    /// The prefix of every namespace this suite makes: `vee<pid>e<k>`.
    static let prefix = "vee"

    /// Creates a namespace with a subnet that no interface on the host uses yet. Calls are serialized by
    /// ``NetworkAllocator`` so that two namespaces never pick the same subnet.
    static func create(tag: Int) async throws -> GuestNetwork {
        let used = try await runTool("/usr/sbin/ip", ["-4", "-o", "addr", "show"])
        let start = Int(getpid()) % 200
        guard
            let n = (0..<250).map({ (start + $0) % 250 + 2 }).first(where: { !used.contains("10.78.\($0).") })
        else { throw HarnessError("no free 10.78.N.0/24 subnet") }
        let pid = Int(getpid())
        let net = GuestNetwork(
            name: "\(prefix)\(pid)e\(tag)", hostInterface: "veh\(pid % 100_000)e\(tag)",
            hostAddress: "10.78.\(n).1", address: "10.78.\(n).2")
        guard net.hostInterface.count <= 15, net.name.count <= 15 else {
            throw HarnessError("interface name \(net.hostInterface) or namespace \(net.name) is too long")
        }
        let ip = "/usr/sbin/ip"
        try await runTool(ip, ["netns", "add", net.name])
        do {
            try await runTool(
                ip, ["link", "add", net.hostInterface, "type", "veth", "peer", "name", "eth0", "netns", net.name])
            try await runTool(ip, ["addr", "add", "\(net.hostAddress)/24", "dev", net.hostInterface])
            try await runTool(ip, ["link", "set", net.hostInterface, "up"])
            try await runTool(ip, ["-n", net.name, "addr", "add", "\(net.address)/24", "dev", "eth0"])
            try await runTool(ip, ["-n", net.name, "link", "set", "eth0", "up"])
            try await runTool(ip, ["-n", net.name, "link", "set", "lo", "up"])
            try await runTool(ip, ["-n", net.name, "route", "add", "default", "via", net.hostAddress])
        } catch {
            await net.remove()
            throw error
        }
        return net
    }

    /// Deletes the veth pair and the namespace (errors ignored: they may be half made).
    func remove() async {
        _ = try? await runTool("/usr/sbin/ip", ["link", "del", hostInterface])
        _ = try? await runTool("/usr/sbin/ip", ["netns", "del", name])
    }

    /// Deletes namespaces (and their veth pairs) left by an earlier test process that died before its clean-up:
    /// names `vee<pid>e<k>` whose process no longer exists.
    static func sweepStale() async {
        guard let list = try? await runTool("/usr/sbin/ip", ["netns", "list"]) else { return }
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix(prefix), let e = name.dropFirst(prefix.count).firstIndex(of: "e"),
                let pid = Int32(name.dropFirst(prefix.count)[..<e]), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let tag = name.dropFirst(prefix.count)[e...]
            _ = try? await runTool("/usr/sbin/ip", ["link", "del", "veh\(pid % 100_000)\(tag)"])
            _ = try? await runTool("/usr/sbin/ip", ["netns", "del", name])
        }
    }
}

/// Makes namespaces one at a time (each picks a subnet no interface uses yet) and deletes them all at the end.
actor NetworkAllocator {
    private var made: [GuestNetwork] = []
    private var count = 0
    private var tail: Task<Void, Never>?

    /// A new namespace (after every earlier request has made its own: the actor alone would interleave them).
    func make() async throws -> GuestNetwork {
        count += 1
        let tag = count
        let previous = tail
        let task = Task { () async throws -> GuestNetwork in
            await previous?.value
            return try await GuestNetwork.create(tag: tag)
        }
        tail = Task { _ = try? await task.value }
        let net = try await task.value
        made.append(net)
        return net
    }

    /// Deletes one namespace.
    func remove(_ net: GuestNetwork) async {
        made.removeAll { $0.name == net.name }
        await net.remove()
    }

    /// Deletes every namespace still there.
    func removeAll() async {
        let all = made
        made = []
        for net in all { await net.remove() }
    }
}
