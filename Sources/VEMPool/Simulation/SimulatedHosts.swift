import VEMPolicy

/// Real hosts as a simulation sees them: capacity, and the VMs placed on each (room is held from the moment a
/// VM is created; a migrating VM holds room on both hosts).
public struct SimulatedHosts: Sendable, Hashable {
    /// One host.
    public struct Host: Sendable, Hashable {
        /// Its name (`host1`, …).
        public var name: String
        /// vCPUs it offers.
        public var cpus: Int
        /// MiB it offers.
        public var memoryMiB: Int
        /// vCPUs held by VMs.
        public var usedCPUs = 0
        /// MiB held by VMs.
        public var usedMemoryMiB = 0
    }

    /// The hosts, in name order.
    public private(set) var hosts: [Host]
    private var index: [String: Int] = [:]

    /// `count` hosts named `host1`… with the same capacity.
    public init(count: Int, cpus: Int, memoryMiB: Int) {
        let width = String(max(1, count)).count
        hosts = (0..<max(0, count)).map { i in
            let digits = String(i + 1)
            return Host(
                name: "host" + String(repeating: "0", count: width - digits.count) + digits, cpus: cpus,
                memoryMiB: memoryMiB)
        }
        for (i, h) in hosts.enumerated() { index[h.name] = i }
    }

    /// vCPUs of all hosts.
    public var totalCPUs: Int { hosts.reduce(0) { $0 + $1.cpus } }

    /// The hosts as the planner sees them (free room as a hypervisor would report it).
    public var states: [HostState] {
        hosts.map {
            HostState(
                name: $0.name, cpus: $0.cpus, memoryMiB: $0.memoryMiB, freeCPUs: max(0, $0.cpus - $0.usedCPUs),
                freeMemoryMiB: max(0, $0.memoryMiB - $0.usedMemoryMiB))
        }
    }

    /// Holds room for a VM; false (nothing held) when the host is unknown or full.
    public mutating func hold(cpus: Int, memoryMiB: Int, on name: String) -> Bool {
        guard let i = index[name], hosts[i].usedCPUs + cpus <= hosts[i].cpus,
            hosts[i].usedMemoryMiB + memoryMiB <= hosts[i].memoryMiB
        else { return false }
        hosts[i].usedCPUs += cpus
        hosts[i].usedMemoryMiB += memoryMiB
        return true
    }

    /// Gives room back.
    public mutating func release(cpus: Int, memoryMiB: Int, on name: String) {
        guard let i = index[name] else { return }
        hosts[i].usedCPUs = max(0, hosts[i].usedCPUs - cpus)
        hosts[i].usedMemoryMiB = max(0, hosts[i].usedMemoryMiB - memoryMiB)
    }
}
