import Foundation
import VEMBatch
import VEMSlurm
import VEMTestSupport

/// A private Slurm 22.05 controller in a scratch directory: munged (own key and socket) and slurmctld on free
/// ports, with a partition per group on the group's node feature (a Nodeset), so a dynamic node (`slurmd -Z`)
/// of a feature joins its group's partition. Adapted from the Slurm suite's `SlurmTestCluster`; here the nodes'
/// slurmd are started by the stand-in guests. Every daemon is stopped by PID.
final class SlurmCluster: @unchecked Sendable {
    let groups: [SiteGroup]
    var mappings: [GroupMapping] {
        groups.map { GroupMapping(group: $0.name, partition: $0.partition, feature: $0.feature) }
    }
    let dir: String
    let conf: String
    let controllerPort: Int
    let nodePort: Int
    private let lock = NSLock()
    private var daemons: [String: Daemon] = [:]

    var environment: [String: String] { ["SLURM_CONF": conf] }

    private init(dir: String, groups: [SiteGroup], ports: [Int]) {
        self.dir = dir
        self.groups = groups
        self.conf = dir + "/slurm/slurm.conf"
        self.controllerPort = ports[0]
        self.nodePort = ports[1]
    }

    /// A driver for reading the cluster's state.
    func batch(timeout: Duration = .seconds(10)) throws -> SlurmBatch {
        SlurmBatch(
            groups: try SlurmGroups(mappings), executor: ProcessSlurmExecutor(slurmConf: conf), timeout: timeout,
            addressOf: { _ in throw SlurmError(.invalidArgument, "the test never registers nodes itself") })
    }

    /// Starts munged and slurmctld under `dir` and waits until slurmctld answers.
    static func start(in dir: String, groups: [SiteGroup]) async throws -> SlurmCluster {
        for tool in [
            "/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/bin/nsenter",
        ]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw HarnessError("\(tool) is missing: run scripts/install-deps (slurm-wlm, munge, util-linux)")
        }
        let cluster = SlurmCluster(dir: dir, groups: groups, ports: try freePorts(2))
        do {
            try await cluster.startMunge()
            try cluster.writeConfig()
            try await cluster.startController()
        } catch {
            await cluster.shutdown()
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
        try config(controllerAddress: nil).write(toFile: conf, atomically: true, encoding: .utf8)
    }

    /// The slurm.conf; a node in a namespace gets a copy naming the host's address on its link.
    func config(controllerAddress: String?) -> String {
        let s = dir + "/slurm"
        return """
            ClusterName=veme2e
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
            SchedulerParameters=sched_interval=1,bf_interval=1
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

            """
                + groups.map { g in
                    "Nodeset=\(g.feature)_set Feature=\(g.feature)\n"
                        + "PartitionName=\(g.partition) Nodes=\(g.feature)_set MaxTime=INFINITE State=UP\n"
                }.joined()
    }

    private func startController() async throws {
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

    /// Starts a node's `slurmd -Z` inside the namespace `net` (the node must exist in Slurm already, created by
    /// `slurm.register`, or slurmd would register a node of its own).
    func startNode(_ node: DynamicNode, in net: GuestNetwork) throws -> Daemon {
        let nodeConf = dir + "/slurm/slurm-\(node.name).conf"
        try config(controllerAddress: net.hostAddress).write(toFile: nodeConf, atomically: true, encoding: .utf8)
        let command = try SlurmCommand.dynamicSlurmd(node)
        return try Daemon(
            name: "slurmd-\(node.name)", program: "/usr/bin/nsenter",
            arguments: ["--net=/run/netns/\(net.name)", "/usr/sbin/slurmd"] + command.arguments + ["-f", nodeConf],
            environment: ["SLURM_CONF": nodeConf], logPath: dir + "/slurm/log/slurmd-\(node.name).out")
    }

    /// Submits `count` jobs of one CPU and 100 MB, each `sleep seconds`, to a partition; returns their ids.
    func submit(partition: String, name: String, seconds: Int, count: Int) async throws -> [Int] {
        var ids: [Int] = []
        for i in 0..<count {
            let out = try await runTool(
                "/usr/bin/sbatch",
                [
                    "--parsable", "-p", partition, "-J", "\(name)\(i)", "--mem=100", "-o", "/dev/null", "-c", "1",
                    "--wrap", "sleep \(seconds)",
                ], environment: environment)
            guard let id = Int(out.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
            else { throw HarnessError("sbatch printed '\(out)'") }
            ids.append(id)
        }
        return ids
    }

    /// Cancels jobs (failures ignored).
    func cancel(_ ids: [Int]) async {
        guard !ids.isEmpty else { return }
        _ = try? await runTool("/usr/bin/scancel", ids.map(String.init), environment: environment)
    }

    /// Stops slurmctld and munged by PID.
    func shutdown() async {
        let all = lock.withLock { daemons }
        await all["slurmctld"]?.stop()
        await all["munged"]?.stop()
    }

    private func add(_ d: Daemon) { lock.withLock { daemons[d.name] = d } }
}
