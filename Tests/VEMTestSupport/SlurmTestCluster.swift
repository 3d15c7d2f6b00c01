import Foundation
import VEMAgent
import VEMBatch
import VEMSlurm

#if canImport(Glibc)
    import Glibc
#endif

// Shared by the suites that run a private Slurm cluster (SlurmIntegrationTests, EndToEndTests).

/// A private Slurm 22.05 cluster in a scratch directory: munged (own key and socket), slurmctld on free ports,
/// and dynamic nodes (`slurmd -Z`), each in a network namespace of the suite's ``NetworkAllocator``. Every daemon
/// is stopped by PID and the namespaces it made are deleted by ``shutdown(keepFiles:)``.
public final class SlurmTestCluster: @unchecked Sendable {
    /// The cluster's settings.
    public let settings: SlurmTestClusterSettings
    /// The scratch directory (munge's and Slurm's files, the logs).
    public let dir: String
    /// The controller's slurm.conf.
    public let conf: String
    /// slurmctld's port.
    public let controllerPort: Int
    /// Every slurmd's port (each in its own namespace).
    public let nodePort: Int
    /// Where the nodes' namespaces come from.
    public let networks: NetworkAllocator
    private let ownsDirectory: Bool
    private let lock = NSLock()
    private var daemons: [String: Daemon] = [:]

    /// The environment Slurm's commands need (`SLURM_CONF`).
    public var environment: [String: String] { ["SLURM_CONF": conf] }
    /// The groups' mappings.
    public var mappings: [GroupMapping] { settings.groups }

    private init(
        settings: SlurmTestClusterSettings, dir: String, ownsDirectory: Bool, ports: [Int], networks: NetworkAllocator
    ) {
        self.settings = settings
        self.dir = dir
        self.ownsDirectory = ownsDirectory
        self.conf = dir + "/slurm/slurm.conf"
        self.controllerPort = ports[0]
        self.nodePort = ports[1]
        self.networks = networks
    }

    /// A driver for this cluster (it never looks an address up: the tests and the Manager always give one).
    public func batch(timeout: Duration = .seconds(10)) throws -> SlurmBatch {
        SlurmBatch(
            groups: try SlurmGroups(mappings), executor: ProcessSlurmExecutor(slurmConf: conf), timeout: timeout,
            addressOf: { _ in throw SlurmError(.invalidArgument, "the test cluster's callers give the address") })
    }

    /// Starts munged and slurmctld and waits until slurmctld answers. In `dir` when given (the caller's, kept at
    /// shutdown), else in a new scratch directory deleted at shutdown. On a failure what was started is stopped.
    public static func start(
        _ settings: SlurmTestClusterSettings, networks: NetworkAllocator, in dir: String? = nil
    ) async throws -> SlurmTestCluster {
        try settings.validate()
        for tool in [
            "/usr/sbin/munged", "/usr/sbin/mungekey", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/squeue",
            "/usr/bin/sbatch", "/usr/bin/scancel", "/usr/bin/nsenter", "/usr/sbin/ip",
        ]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw HarnessError("\(tool) is missing: run scripts/install-deps (slurm-wlm, munge, iproute2, util-linux)")
        }
        let scratch: String
        if let dir {
            scratch = dir
        } else {
            var template = Array("/tmp/vem-slurm-XXXXXX".utf8CString)
            guard mkdtemp(&template) != nil else { throw HarnessError("mkdtemp failed") }
            scratch = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let cluster = SlurmTestCluster(
            settings: settings, dir: scratch, ownsDirectory: dir == nil, ports: try freePorts(2), networks: networks)
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
        try config(controllerAddress: nil).write(toFile: conf, atomically: true, encoding: .utf8)
    }

    /// The slurm.conf; a dynamic node in a namespace gets a copy naming the host's address on its link.
    public func config(controllerAddress: String?) -> String {
        settings.config(
            dir: dir, controllerPort: controllerPort, nodePort: nodePort, controllerAddress: controllerAddress)
    }

    /// Starts slurmctld in the foreground and waits until `squeue` answers (also to restart it after
    /// ``stopController()``).
    public func startController() async throws {
        if let running = daemon("slurmctld"), running.isRunning {
            throw HarnessError("slurmctld runs already (PID \(running.pid))")
        }
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
    public func stopController() async {
        await daemon("slurmctld")?.stop()
    }

    /// Kills slurmctld with SIGKILL by PID (a crash: its state directory stays as it was); ``startController()``
    /// starts it again on the same state.
    public func killController() async {
        await daemon("slurmctld")?.kill9()
    }

    /// A new network namespace standing for a VM, deleted at shutdown.
    public func makeNamespace() async throws -> NetworkNamespace {
        try await networks.make()
    }

    /// Starts a node's `slurmd -Z` inside the namespace `ns`. The node must exist in Slurm already (`scontrol
    /// create` at ``NetworkNamespace/address``, as `slurm.register` does), or slurmd registers a node of its own.
    /// The daemon is stopped by ``stopNode(_:)``, by its caller, or at shutdown.
    @discardableResult
    public func startNode(_ node: DynamicNode, in ns: NetworkNamespace) throws -> Daemon {
        let nodeConf = dir + "/slurm/slurm-\(node.name).conf"
        try config(controllerAddress: ns.hostAddress).write(toFile: nodeConf, atomically: true, encoding: .utf8)
        let command = try SlurmCommand.dynamicSlurmd(node)
        let slurmd = try Daemon(
            name: "slurmd-\(node.name)", program: "/usr/bin/nsenter",
            arguments: ["--net=/run/netns/\(ns.name)", "/usr/sbin/slurmd"] + command.arguments + ["-f", nodeConf],
            environment: ["SLURM_CONF": nodeConf], logPath: dir + "/slurm/log/slurmd-\(node.name).out")
        add(slurmd)
        return slurmd
    }

    /// Stops a node's slurmd by PID.
    public func stopNode(_ name: String) async {
        await daemon("slurmd-\(name)")?.stop()
    }

    /// Submits a batch job of one CPU and 100 MB, `sleep seconds`, to a partition (on `node` when given);
    /// returns its id.
    /// With `held`, the job waits (held, so no batch snapshot counts it as demand) until ``release(_:)``.
    public func submit(
        partition: String, name: String, seconds: Int, node: String? = nil, held: Bool = false
    ) async throws -> Int {
        var args = ["--parsable", "-p", partition, "-J", name, "--mem=100", "-o", "/dev/null", "-c", "1"]
        if let node { args += ["-w", node] }
        if held { args.append("--hold") }
        args += ["--wrap", "sleep \(seconds)"]
        let out = try await runTool("/usr/bin/sbatch", args, environment: environment)
        guard let id = Int(out.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        else { throw HarnessError("sbatch printed '\(out)'") }
        return id
    }

    /// Submits a batch job of one CPU and 100 MB that runs `script` (a shell command line) in a partition, with
    /// `--requeue` when `requeue` (a job whose node fails is queued again); returns its id.
    public func submit(partition: String, name: String, script: String, requeue: Bool) async throws -> Int {
        var args = ["--parsable", "-p", partition, "-J", name, "--mem=100", "-o", "/dev/null", "-c", "1"]
        args.append(requeue ? "--requeue" : "--no-requeue")
        args += ["--wrap", script]
        let out = try await runTool("/usr/bin/sbatch", args, environment: environment, timeout: .seconds(10))
        guard let id = Int(out.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        else { throw HarnessError("sbatch printed '\(out)'") }
        return id
    }

    /// Submits `count` such jobs, named `<name>0`, `<name>1`…; returns their ids.
    public func submit(
        partition: String, name: String, seconds: Int, count: Int, held: Bool = false
    ) async throws -> [Int] {
        var ids: [Int] = []
        for i in 0..<count {
            ids.append(try await submit(partition: partition, name: "\(name)\(i)", seconds: seconds, held: held))
        }
        return ids
    }

    /// Releases held jobs with one `scontrol release`, so that they become pending in the same batch snapshot.
    ///
    /// Slurm 22.05 releases a job whose partition has no node yet but still exits 1 ("Requested partition
    /// configuration not available now"), so the outcome is read back from `squeue`: no job may still be held.
    public func release(_ ids: [Int]) async throws {
        guard !ids.isEmpty else { return }
        let list = ids.map(String.init).joined(separator: ",")
        var config = ProcessRunner.Configuration(timeout: .seconds(20))
        config.environment.merge(environment) { $1 }
        let result = try await ProcessRunner(configuration: config).run("/usr/bin/scontrol", arguments: ["release", list])
        guard result.succeeded || result.errorText.contains("Requested partition configuration not available now")
        else { throw HarnessError("scontrol release \(list) failed: \(result.errorText)") }
        let reasons = try await runTool("/usr/bin/squeue", ["-h", "-j", list, "-o", "%i %r"], environment: environment)
        let held = reasons.split(separator: "\n").filter { $0.contains("JobHeld") }
        guard held.isEmpty else { throw HarnessError("still held after scontrol release: \(held)") }
    }

    /// Cancels jobs (failures ignored).
    public func cancel(_ ids: [Int]) async {
        guard !ids.isEmpty else { return }
        _ = try? await runTool("/usr/bin/scancel", ids.map(String.init), environment: environment)
    }

    /// Stops every daemon by PID (slurmd first, munged last), deletes the namespaces of its allocator and the
    /// scratch directory when the cluster made it (kept when `keepFiles`, for the logs).
    public func shutdown(keepFiles: Bool = false) async {
        let all = lock.withLock { daemons }
        for (name, d) in all where name.hasPrefix("slurmd-") { await d.stop() }
        await all["slurmctld"]?.stop()
        await all["munged"]?.stop()
        await networks.removeAll()
        if ownsDirectory, !keepFiles { try? FileManager.default.removeItem(atPath: dir) }
    }

    private func add(_ d: Daemon) { lock.withLock { daemons[d.name] = d } }
    private func daemon(_ name: String) -> Daemon? { lock.withLock { daemons[name] } }
}
