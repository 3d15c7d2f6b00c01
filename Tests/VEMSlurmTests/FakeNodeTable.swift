import Foundation

@testable import VEMSlurm

/// slurmctld's node table behind a fake `scontrol`, answering as Slurm 22.05.8 did on the test cluster:
/// `create` of a name that exists exits 0 and changes nothing; `show` prints one `-o` line (`FUTURE` nodes
/// with `--future`); `update NodeAddr=` moves a node; a node from slurm.conf has no `DYNAMIC_NORM`.
final class FakeNodeTable: @unchecked Sendable {
    struct Node {
        var features: [String]
        var address: String
        var state: String
        var cpus = 1
        var memoryMB = 1000
    }

    private let lock = NSLock()
    private var nodes: [String: Node] = [:]
    /// Runs once, before the table answers a `create` (a guest's `slurmd -Z` registering in between).
    private var beforeCreate: ((inout [String: Node]) -> Void)?

    init(_ nodes: [String: Node] = [:], beforeCreate: ((inout [String: Node]) -> Void)? = nil) {
        self.nodes = nodes
        self.beforeCreate = beforeCreate
    }

    subscript(name: String) -> Node? { lock.withLock { nodes[name] } }
    var names: [String] { lock.withLock { nodes.keys.sorted() } }

    /// The `scontrol` part of a ``FakeExecutor``.
    func scontrol(_ args: [String]) -> SlurmOutput {
        lock.withLock {
            let words = Dictionary(
                args.compactMap { w -> (String, String)? in
                    guard let eq = w.firstIndex(of: "=") else { return nil }
                    return (String(w[..<eq]), String(w[w.index(after: eq)...]))
                }, uniquingKeysWith: { a, _ in a })
            switch args.first {
            case "-o":
                let name = args[4]
                guard let n = nodes[name] else { return notFound(name) }
                let line =
                    "NodeName=\(name) CoresPerSocket=1 CPUAlloc=0 CPUEfctv=\(n.cpus) CPUTot=\(n.cpus) CPULoad=N/A "
                    + "AvailableFeatures=\(n.features.isEmpty ? "(null)" : n.features.joined(separator: ",")) "
                    + "ActiveFeatures=\(n.features.isEmpty ? "(null)" : n.features.joined(separator: ",")) "
                    + "Gres=(null) NodeAddr=\(n.address) NodeHostName=vm OS=Linux 6.1 #1 SMP "
                    + "RealMemory=\(n.memoryMB) AllocMem=0 FreeMem=N/A Sockets=1 Boards=1 State=\(n.state) "
                    + "ThreadsPerCore=1 TmpDisk=0 Weight=1 Partitions=dynB\n"
                return SlurmOutput(status: 0, standardOutput: Data(line.utf8))
            case "create":
                if let hook = beforeCreate {
                    beforeCreate = nil
                    hook(&nodes)
                }
                let name = words["NodeName"] ?? ""
                if nodes[name] == nil {
                    nodes[name] = Node(
                        features: (words["Feature"] ?? "").split(separator: ",").map(String.init),
                        address: words["NodeAddr"] ?? name, state: "FUTURE+DYNAMIC_NORM",
                        cpus: Int(words["CPUs"] ?? "") ?? 1, memoryMB: Int(words["RealMemory"] ?? "") ?? 1)
                }
                return SlurmOutput(status: 0)  // 22.05: "already exists" goes to slurmctld's log only
            case "update":
                let name = words["NodeName"] ?? ""
                guard nodes[name] != nil else {
                    return SlurmOutput(status: 1, standardError: "slurm_update error: Invalid node name specified\n")
                }
                if let address = words["NodeAddr"] { nodes[name]?.address = address }
                return SlurmOutput(status: 0)
            case "delete":
                let name = words["NodeName"] ?? ""
                guard nodes.removeValue(forKey: name) != nil else {
                    return SlurmOutput(status: 1, standardError: "Invalid node name specified\n")
                }
                return SlurmOutput(status: 0)
            default:
                return SlurmOutput(status: 1, standardError: "unexpected scontrol \(args)\n")
            }
        }
    }

    /// A fake executor: squeue and sinfo from the fixtures, scontrol from this table.
    func executor() throws -> FakeExecutor {
        try FakeExecutor.cluster { [self] args in scontrol(args) }
    }
}
