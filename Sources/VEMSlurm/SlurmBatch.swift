import VEMBatch
import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The Slurm driver: VEM's ``BatchSystem`` on a real Slurm cluster (22.05 or later).
///
/// It reads demand with `squeue --json --all` and `sinfo --json --all` and acts on nodes with `scontrol`
/// only: a new VM becomes a *dynamic node* (`scontrol create NodeName=… NodeAddr=… Feature=<group feature>
/// State=FUTURE`, after which the VM's `slurmd -Z` registers it; a node of the group that is already there —
/// a retried registration, a guest whose `slurmd -Z` came first — is adopted, see
/// ``registerNode(_:address:hostname:)``), surplus nodes are drained
/// (`scontrol update … State=DRAIN Reason=…`), resumed (`State=RESUME`) and deleted (`scontrol delete`).
/// It never submits, cancels or reorders jobs.
///
/// Every command runs with a timeout (``timeout``); a stopped or unreachable slurmctld gives a
/// `BatchError` (`batch_unavailable`) within it, never a hang. The methods are non-mutating: the value may be
/// shared freely.
public struct SlurmBatch: BatchSystem {
    /// Finds the groups of jobs and nodes.
    public let groups: SlurmGroups
    /// Runs the commands.
    public let executor: any SlurmExecutor
    /// The timeout of each command.
    public var timeout: Duration
    /// The state nodes are created in.
    public var dynamicNodeState: DynamicNodeState
    /// Finds a new node's `NodeAddr` when ``register(_:)`` is called without one. The default resolves the
    /// node's name (see ``resolveAddress(of:)``).
    public var addressOf: @Sendable (NodeRegistration) async throws -> String
    /// The current Unix time (injected for tests).
    public var now: @Sendable () -> Int

    /// Creates a driver.
    /// - Parameters:
    ///   - groups: The group mappings.
    ///   - executor: Runs the commands (default: the real programs in `/usr/bin`, Slurm's default config).
    ///   - timeout: The timeout of each command (default 15 s; Slurm's own clients give up on an unreachable
    ///     slurmctld after about `MessageTimeout`, 10 s by default).
    ///   - dynamicNodeState: The state nodes are created in (default `FUTURE`).
    ///   - addressOf: Finds a new node's address (default: resolve its name).
    ///   - now: The current Unix time.
    public init(
        groups: SlurmGroups, executor: any SlurmExecutor = ProcessSlurmExecutor(), timeout: Duration = .seconds(15),
        dynamicNodeState: DynamicNodeState = .future,
        addressOf: @escaping @Sendable (NodeRegistration) async throws -> String = { try resolveAddress(of: $0.name) },
        now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }
    ) {
        self.groups = groups
        self.executor = executor
        self.timeout = timeout
        self.dynamicNodeState = dynamicNodeState
        self.addressOf = addressOf
        self.now = now
    }

    // MARK: Reading

    /// Reads every job and node (`squeue` and `sinfo` run at the same time).
    /// - Parameter timeout: Overrides ``timeout`` for this read.
    /// - Throws: ``SlurmError``.
    public func readState(timeout: Duration? = nil) async throws -> SlurmState {
        let limit = timeout ?? self.timeout
        async let queue = executor.run(.queue, timeout: limit)
        async let info = executor.run(.nodes, timeout: limit)
        let (q, i) = try await (queue, info)
        guard q.status == 0 else { throw classify(q, of: .queue) }
        guard i.status == 0 else { throw classify(i, of: .nodes) }
        let jobs = try SlurmParser.jobs(fromSqueue: q.standardOutput)
        let nodes = try SlurmParser.nodes(fromSinfo: i.standardOutput)
        return SlurmState(time: now(), jobs: jobs, nodes: nodes)
    }

    /// True when Slurm knows a node of that name (`FUTURE` nodes included).
    /// - Throws: ``SlurmError`` when Slurm cannot be asked.
    public func nodeExists(_ name: String) async throws -> Bool {
        try await showNode(name) != nil
    }

    /// `scontrol -o --future show node NAME`'s line, or nil when Slurm does not know the node.
    func showNode(_ name: String) async throws -> String? {
        let command = try SlurmCommand.showNode(name)
        let out = try await executor.run(command, timeout: timeout)
        if out.status == 0 { return String(decoding: out.standardOutput, as: UTF8.self) }
        let text = out.standardError + String(decoding: out.standardOutput, as: UTF8.self)
        if text.contains("not found") || text.contains("Invalid node name") { return nil }
        throw classify(out, of: command)
    }

    // MARK: Acting on nodes

    /// Drains a node (`State=DRAIN`): it finishes its jobs and takes no new one.
    /// - Throws: ``SlurmError`` (`.unknownNode`, `.invalidArgument`, command failures).
    public func drainNode(_ name: String, reason: String) async throws {
        try await check(try SlurmCommand.drainNode(name, reason: reason))
    }

    /// Marks a node down (`State=DRAIN`, then `State=DOWN`, with a reason): it takes no job, and its jobs end —
    /// requeued at once when they may be (a lost VM's node, or a busy VM's before VEM destroys it).
    ///
    /// The drain comes first because a down alone does not last while the node's slurmd lives: with
    /// `ReturnToService=2` slurmctld puts the node back in service at the slurmd's next registration, which
    /// follows the kill of its jobs within a second or two, and the next job starts there before the VM is
    /// destroyed (`SlurmClusterTests`). The `DRAIN` flag survives the down and that registration.
    /// - Throws: ``SlurmError`` (`.unknownNode`, command failures).
    public func downNode(_ name: String, reason: String) async throws {
        try await check(try SlurmCommand.drainNode(name, reason: reason))
        try await check(try SlurmCommand.downNode(name, reason: reason))
    }

    /// Resumes a draining or drained node (`State=RESUME`). Resuming a node that is not drained does nothing.
    /// - Throws: ``SlurmError`` (`.unknownNode`, `.invalidNodeState`, command failures).
    public func resumeNode(_ name: String) async throws {
        do {
            try await check(try SlurmCommand.resumeNode(name))
        } catch let error as SlurmError where error.code == .invalidNodeState {
            // Slurm refuses RESUME for a node that is not drained or down: nothing to do then.
            guard let line = try await showNode(name) else {
                throw SlurmError(.unknownNode, "Slurm has no node named '\(name)'")
            }
            let state = Self.field("State", in: line) ?? ""
            if state.contains("DRAIN") || state.contains("FAIL") { throw error }
        }
    }

    /// Deletes a node (`scontrol delete`). Slurm refuses while jobs run on it.
    /// - Throws: ``SlurmError`` (`.unknownNode`, `.invalidNodeState` when busy, command failures).
    public func deleteNode(_ name: String) async throws {
        try await check(try SlurmCommand.deleteNode(name))
    }

    /// Runs a command and turns a non-zero exit status into a ``SlurmError``.
    func check(_ command: SlurmCommand) async throws {
        let out = try await executor.run(command, timeout: timeout)
        guard out.status == 0 else { throw classify(out, of: command) }
    }

    /// The value of `Key=` in `scontrol -o show` output.
    static func field(_ key: String, in line: String) -> String? {
        for word in line.split(whereSeparator: { $0 == " " || $0 == "\n" }) where word.hasPrefix(key + "=") {
            return String(word.dropFirst(key.count + 1))
        }
        return nil
    }

    /// Turns a failed command's output into an error with a code.
    func classify(_ out: SlurmOutput, of command: SlurmCommand) -> SlurmError {
        let text = out.errorSummary
        let what = "\(command.program.rawValue) \(command.arguments.first ?? "")".trimmingWhitespace(newlines: false)
        let code: SlurmError.Code
        if text.contains("Invalid node name specified") || text.contains("not found") {
            code = .unknownNode
        } else if text.contains("busy") || text.contains("Invalid node state") {
            code = .invalidNodeState
        } else if text.contains("already exists") {
            code = .duplicateNode
        } else if text.contains("Unable to contact slurm controller") || text.contains("Zero Bytes were transmitted") {
            return SlurmError(.slurmReported, "\(what) cannot reach slurmctld; is it running?", cause: text)
        } else {
            code = .commandFailed
        }
        return SlurmError(code, "\(what) failed with status \(out.status): \(text)")
    }
}
