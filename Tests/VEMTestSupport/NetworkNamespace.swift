import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Shared by the suites that give processes their own network (SlurmIntegrationTests, EndToEndTests).

/// How one suite names and addresses its namespaces: a private 10.X.N.0/24 range and name prefixes of its own,
/// so that two suites running in one test process never pick the same subnet or name, and each can sweep the
/// namespaces its earlier, dead processes left behind.
public struct NetworkNamespaceScheme: Sendable {
    /// The second octet of the suite's subnets (10.X.N.0/24).
    public let subnet: Int
    /// The start of every namespace's name: `<namePrefix><pid><tagLetter><k>`.
    public let namePrefix: String
    /// The start of every host-side interface's name: `<interfacePrefix><pid % 100000><tagLetter><k>`.
    public let interfacePrefix: String
    /// The letter between the PID and the namespace's number.
    public let tagLetter: Character

    /// A scheme; the prefixes and the letter must be lowercase letters (the PID in between is parsed back).
    public init(subnet: Int, namePrefix: String, interfacePrefix: String, tagLetter: Character) {
        self.subnet = subnet
        self.namePrefix = namePrefix
        self.interfacePrefix = interfacePrefix
        self.tagLetter = tagLetter
    }

    /// The Slurm suite's: 10.79.N.0/24, `vsl<pid>n<k>` and `vsh…`.
    public static let slurmSuite = NetworkNamespaceScheme(
        subnet: 79, namePrefix: "vsl", interfacePrefix: "vsh", tagLetter: "n")
    /// The end-to-end suite's: 10.78.N.0/24, `vee<pid>e<k>` and `veh…`.
    public static let endToEnd = NetworkNamespaceScheme(
        subnet: 78, namePrefix: "vee", interfacePrefix: "veh", tagLetter: "e")

    /// The real-guest suite's: 10.77.N.0/24, `vrg<pid>g<k>` and `vrh…` (the namespace holds the guests' bridge).
    public static let realGuest = NetworkNamespaceScheme(
        subnet: 77, namePrefix: "vrg", interfacePrefix: "vrh", tagLetter: "g")

    func namespaceName(pid: Int32, tag: Int) -> String { "\(namePrefix)\(pid)\(tagLetter)\(tag)" }
    func interfaceName(pid: Int32, tag: String) -> String { "\(interfacePrefix)\(pid % 100_000)\(tag)" }

    /// Deletes the namespaces (and their veth pairs) of this scheme left by an earlier test process that died
    /// before its clean-up: names `<namePrefix><pid><tagLetter><k>` whose process no longer exists.
    public func sweepStale() async {
        guard let list = try? await runTool("/usr/sbin/ip", ["netns", "list"]) else { return }
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix(namePrefix) else { continue }
            let rest = name.dropFirst(namePrefix.count)
            guard let t = rest.firstIndex(of: tagLetter), let pid = Int32(rest[..<t]), kill(pid, 0) != 0,
                errno == ESRCH
            else { continue }
            _ = try? await runTool("/usr/sbin/ip", ["link", "del", interfaceName(pid: pid, tag: String(rest[t...]))])
            _ = try? await runTool("/usr/sbin/ip", ["netns", "del", name])
        }
    }
}

/// A network namespace joined to the host by a veth pair on a private /24: the host side is `.1`, the namespace
/// side `.2` (its `eth0`), and the namespace's default route goes to the host, so a process inside reaches every
/// address of the host (a hub on another link's host side, slurmctld). Stands for a VM's network, or the link a
/// Manager listens on. Made by ``NetworkAllocator``.
public struct NetworkNamespace: Sendable {
    /// The namespace's name (`/run/netns/<name>`).
    public let name: String
    /// The host-side interface (at most 15 characters).
    public let hostInterface: String
    /// The host's address on the link (slurmctld, a hub, are reached there).
    public let hostAddress: String
    /// The namespace's address (a VM's address: its Client's peer address and its node's `NodeAddr`).
    public let address: String

    /// Creates a namespace with a subnet of `scheme` that no interface on the host uses yet. Not safe to call
    /// concurrently (two calls could pick one subnet): ``NetworkAllocator`` serializes the calls.
    static func create(_ scheme: NetworkNamespaceScheme, tag: Int) async throws -> NetworkNamespace {
        let used = try await runTool("/usr/sbin/ip", ["-4", "-o", "addr", "show"])
        let start = Int(getpid()) % 200
        let x = scheme.subnet
        guard
            let n = (0..<250).map({ (start + $0) % 250 + 2 }).first(where: { !used.contains("10.\(x).\($0).") })
        else { throw HarnessError("no free 10.\(x).N.0/24 subnet") }
        let pid = getpid()
        let ns = NetworkNamespace(
            name: scheme.namespaceName(pid: pid, tag: tag),
            hostInterface: scheme.interfaceName(pid: pid, tag: "\(scheme.tagLetter)\(tag)"),
            hostAddress: "10.\(x).\(n).1", address: "10.\(x).\(n).2")
        guard ns.hostInterface.count <= 15, ns.name.count <= 15 else {
            throw HarnessError("interface name \(ns.hostInterface) or namespace \(ns.name) is too long")
        }
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
            try await runTool(ip, ["-n", ns.name, "route", "add", "default", "via", ns.hostAddress])
        } catch {
            await ns.remove()
            throw error
        }
        return ns
    }

    /// Deletes the veth pair and the namespace (errors ignored: they may be half made).
    public func remove() async {
        _ = try? await runTool("/usr/sbin/ip", ["link", "del", hostInterface])
        _ = try? await runTool("/usr/sbin/ip", ["netns", "del", name])
    }
}
