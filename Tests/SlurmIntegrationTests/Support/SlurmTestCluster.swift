import Foundation
import VEMAgent
import VEMBatch
import VEMSlurm
import VEMTestSupport

/// A private Slurm 22.05 cluster in a scratch directory: munged (own key and socket), slurmctld on free
/// ports, and dynamic nodes (`slurmd -Z`), each in its own network namespace. Everything is stopped by PID
/// and deleted by ``shutdown()``.
final class SlurmTestCluster: @unchecked Sendable {
    @TaskLocal static var current: SlurmTestCluster?

    /// The groups of the test cluster: `a` and `b`, each a Nodeset partition on its feature.
    static let mappings = [
        GroupMapping(group: "a", partition: "dynA", feature: "vemA"),
        GroupMapping(group: "b", partition: "dynB", feature: "vemB"),
    ]

    let dir: String
    let conf: String
    let controllerPort: Int
    let nodePort: Int
    private let lock = NSLock()
    private var daemons: [String: Daemon] = [:]
    private var namespaces: [NetworkNamespace] = []
    private var namespaceCount = 0

    var environment: [String: String] { ["SLURM_CONF": conf] }

    private init(dir: String, ports: [Int]) {
        self.dir = dir
        self.conf = dir + "/slurm/slurm.conf"
        self.controllerPort = ports[0]
        self.nodePort = ports[1]
    }

    /// A driver for this cluster.
    func batch(timeout: Duration = .seconds(10)) throws -> SlurmBatch {
        SlurmBatch(
            groups: try SlurmGroups(Self.mappings), executor: ProcessSlurmExecutor(slurmConf: conf), timeout: timeout,
            addressOf: { _ in throw SlurmError(.invalidArgument, "the tests always give the address") })
    }

    /// Starts munged and slurmctld and waits until slurmctld answers.
    static func start() async throws -> SlurmTestCluster {
        for tool in [
            "/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/squeue", "/usr/bin/nsenter",
        ]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw HarnessError("\(tool) is missing: run scripts/install-deps (slurm-wlm, munge, iproute2)")
        }
        await NetworkNamespace.sweepStale()
        var template = Array("/tmp/vem-slurm-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw HarnessError("mkdtemp failed") }
        let dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let cluster = SlurmTestCluster(dir: dir, ports: try freePorts(2))
        do {
            try await cluster.startMunge()
            try cluster.writeConfig()
            try await cluster.startController()
        } catch {
            await cluster.shutdown(keepFiles: true)
            throw error
        }
        return cluster
    }

    private func startMunge() async throws {
        let m = dir + "/munge"
        try FileManager.default.createDirectory(atPath: m, withIntermediateDirectories: true)
        chmod(m, 0o700)
        try await runTool("/usr/sbin/mungekey", ["--create", "--keyfile=\(m)/munge.key", "--bits=1024"])
        chmod(m + "/munge.key", 0o600)
        let munged = try Daemon(
            name: "munged", program: "/usr/sbin/munged",
            arguments: [
                "-F", "--force", "--key-file=\(m)/munge.key", "--socket=\(m)/munge.socket",
                "--pid-file=\(m)/munged.pid", "--log-file=\(m)/munged.log", "--seed-file=\(m)/munged.seed",
            ], logPath: m + "/munged.out")
        add(munged)
        try await eventually("munged's socket", within: .seconds(10)) {
            guard munged.isRunning else { throw HarnessError("munged exited: \(munged.logTail)") }
            return FileManager.default.fileExists(atPath: m + "/munge.socket") ? true : nil
        }
    }

    private func writeConfig() throws {
        let s = dir + "/slurm"
        for sub in ["state", "spool", "log"] {
            try FileManager.default.createDirectory(atPath: s + "/" + sub, withIntermediateDirectories: true)
        }
        try Self.config(dir: dir, controllerPort: controllerPort, nodePort: nodePort, controllerAddress: nil)
            .write(toFile: conf, atomically: true, encoding: .utf8)
    }

    /// The slurm.conf; a dynamic node in a namespace gets a copy naming the host's address on its link.
    static func config(dir: String, controllerPort: Int, nodePort: Int, controllerAddress: String?) -> String {
        let s = dir + "/slurm"
        return """
            ClusterName=vemtest
            SlurmctldHost=localhost\(controllerAddress.map { "(\($0))" } ?? "")
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            AuthInfo=socket=\(dir)/munge/munge.socket
            CredType=cred/munge
            SlurmctldPort=\(controllerPort)
            SlurmdPort=\(nodePort)
            StateSaveLocation=\(s)/state
            SlurmdSpoolDir=\(s)/spool/%n
            SlurmctldPidFile=\(s)/slurmctld.pid
            SlurmdPidFile=\(s)/slurmd-%n.pid
            SlurmctldLogFile=\(s)/log/slurmctld.log
            SlurmdLogFile=\(s)/log/slurmd-%n.log
            SlurmctldDebug=info
            SlurmdDebug=info
            DebugFlags=NO_CONF_HASH
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            JobCompType=jobcomp/none
            SchedulerType=sched/backfill
            SchedulerParameters=sched_interval=2,bf_interval=1
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core_Memory
            DefMemPerCPU=100
            MpiDefault=none
            SwitchType=switch/none
            ReturnToService=2
            SlurmctldTimeout=30
            SlurmdTimeout=60
            InactiveLimit=0
            MinJobAge=300
            KillWait=2
            Waittime=0
            MaxNodeCount=64
            TreeWidth=65533
            Nodeset=vemA_set Feature=vemA
            Nodeset=vemB_set Feature=vemB
            PartitionName=dynA Nodes=vemA_set MaxTime=INFINITE State=UP
            PartitionName=dynB Nodes=vemB_set MaxTime=INFINITE State=UP

            """
    }

    /// Starts slurmctld in the foreground and waits until `squeue` answers.
    func startController() async throws {
        let ctld = try Daemon(
            name: "slurmctld", program: "/usr/sbin/slurmctld", arguments: ["-D", "-f", conf], environment: environment,
            logPath: dir + "/slurm/log/slurmctld.out")
        add(ctld)
        let port = controllerPort
        try await eventually("slurmctld listening on port \(port)", within: .seconds(15)) {
            guard ctld.isRunning else { throw HarnessError("slurmctld exited: \(ctld.logTail)") }
            return isListening(port) ? true : nil
        }
        let batch = try batch(timeout: .seconds(5))
        _ = try await eventually("slurmctld answering squeue", within: .seconds(15)) { try await batch.readState() }
    }

    /// Stops slurmctld by PID.
    func stopController() async {
        await daemon("slurmctld")?.stop()
    }

    /// Makes a namespace for a new node and starts its `slurmd -Z` there; the node must have been created
    /// with `scontrol create` (at ``NetworkNamespace/address``) first, or registers by itself.
    func startNode(_ node: DynamicNode, in ns: NetworkNamespace) throws {
        let nodeConf = dir + "/slurm/slurm-\(node.name).conf"
        try Self.config(dir: dir, controllerPort: controllerPort, nodePort: nodePort, controllerAddress: ns.hostAddress)
            .write(toFile: nodeConf, atomically: true, encoding: .utf8)
        let command = try SlurmCommand.dynamicSlurmd(node)
        let slurmd = try Daemon(
            name: "slurmd-\(node.name)", program: "/usr/bin/nsenter",
            arguments: ["--net=/run/netns/\(ns.name)", "/usr/sbin/slurmd"] + command.arguments + ["-f", nodeConf],
            environment: ["SLURM_CONF": nodeConf], logPath: dir + "/slurm/log/slurmd-\(node.name).out")
        add(slurmd)
    }

    /// Stops a node's slurmd by PID.
    func stopNode(_ name: String) async {
        await daemon("slurmd-\(name)")?.stop()
    }

    /// A new network namespace standing for a VM, deleted at shutdown.
    func makeNamespace() async throws -> NetworkNamespace {
        let tag = lock.withLock {
            namespaceCount += 1
            return "n\(namespaceCount)"
        }
        let ns = try await NetworkNamespace.create(tag: tag)
        lock.withLock { namespaces.append(ns) }
        return ns
    }

    /// Submits a batch job; returns its id.
    func submit(partition: String, name: String, seconds: Int, node: String? = nil) async throws -> Int {
        var args = ["--parsable", "-p", partition, "-J", name, "--mem=100", "-o", "/dev/null", "-c", "1"]
        if let node { args += ["-w", node] }
        args += ["--wrap", "sleep \(seconds)"]
        let out = try await runTool("/usr/bin/sbatch", args, environment: environment)
        guard let id = Int(out.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        else { throw HarnessError("sbatch printed '\(out)'") }
        return id
    }

    /// Cancels jobs (ignoring failures).
    func cancel(_ ids: [Int]) async {
        guard !ids.isEmpty else { return }
        _ = try? await runTool("/usr/bin/scancel", ids.map(String.init), environment: environment)
    }

    /// Stops every daemon by PID (slurmd first, munged last), deletes the namespaces and the scratch
    /// directory (kept when `keepFiles`, for the logs).
    func shutdown(keepFiles: Bool = false) async {
        let (all, spaces) = lock.withLock { (daemons, namespaces) }
        for (name, d) in all where name.hasPrefix("slurmd-") { await d.stop() }
        await all["slurmctld"]?.stop()
        await all["munged"]?.stop()
        for ns in spaces { await ns.remove() }
        if !keepFiles { try? FileManager.default.removeItem(atPath: dir) }
    }

    private func add(_ d: Daemon) { lock.withLock { daemons[d.name] = d } }
    private func daemon(_ name: String) -> Daemon? { lock.withLock { daemons[name] } }
}
