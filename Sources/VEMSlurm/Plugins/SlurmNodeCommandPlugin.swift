import VEMAgent
import VEMBatch

/// The command plugins `slurm.register`, `slurm.drain`, `slurm.resume`, `slurm.remove` and `slurm.down`.
///
/// Arguments are checked before anything runs (node names, sizes, addresses, reasons; see ``SlurmName``);
/// the Slurm command runs within the command's timeout. Outcomes: `ok`; `timeout` when slurmctld did not
/// answer in time; `failed` with the reason otherwise (unknown node, busy node, a name taken by a node that is
/// not the group's, bad argument).
///
/// `slurm.register` is idempotent: the group's node of that name, already in Slurm, is adopted (see
/// ``SlurmBatch/registerNode(_:address:hostname:)``); its output is the JSON of a ``RegisteredNode``
/// (`{"address":…,"adopted":false,…,"feature":…,…,"slurmState":"FUTURE+DYNAMIC_NORM"}`).
public struct SlurmNodeCommandPlugin: CommandPlugin {
    /// What the plugin does.
    public enum Action: String, Sendable, CaseIterable {
        /// `slurm.register node group cpus memory_mb [address]`.
        case register
        /// `slurm.drain node reason…` (the words of the reason are joined with spaces).
        case drain
        /// `slurm.resume node`.
        case resume
        /// `slurm.remove node`.
        case remove
        /// `slurm.down node reason…` (a lost VM's node: no job starts there, those it ran end).
        case down
    }

    /// The action.
    public let action: Action
    /// `slurm.<action>`.
    public var name: String { "slurm." + action.rawValue }
    /// True: the Slurm command stops at the command's timeout.
    public var enforcesTimeout: Bool { true }
    let batch: SlurmBatch

    /// Creates the plugin.
    public init(_ action: Action, batch: SlurmBatch) {
        self.action = action
        self.batch = batch
    }

    /// Runs the command.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        var batch = self.batch
        batch.timeout = context.timeout
        let args = request.arguments
        do {
            switch action {
            case .register:
                guard args.count == 4 || args.count == 5, let cpus = Int(args[2]), let memory = Int(args[3]) else {
                    return usage("node group cpus memory_mb [address]")
                }
                let registration = NodeRegistration(name: args[0], group: args[1], cpus: cpus, memoryMB: memory)
                let address: String
                if args.count == 5 {
                    address = args[4]
                } else {
                    do {
                        address = try await batch.addressOf(registration)
                    } catch let error as SlurmError {
                        throw error
                    } catch {
                        throw SlurmError(.invalidArgument, "no address for node '\(args[0])'", cause: "\(error)")
                    }
                }
                let node = try await batch.registerNode(registration, address: address)
                return PluginOutcome(status: .ok, output: try SlurmPlugins.json(node))
            case .drain:
                guard args.count >= 2 else { return usage("node reason…") }
                try await batch.drainNode(args[0], reason: args.dropFirst().joined(separator: " "))
                return PluginOutcome(status: .ok, output: "drained \(args[0])")
            case .resume:
                guard args.count == 1 else { return usage("node") }
                try await batch.resumeNode(args[0])
                return PluginOutcome(status: .ok, output: "resumed \(args[0])")
            case .remove:
                guard args.count == 1 else { return usage("node") }
                try await batch.deleteNode(args[0])
                return PluginOutcome(status: .ok, output: "removed \(args[0])")
            case .down:
                guard args.count >= 2 else { return usage("node reason…") }
                try await batch.downNode(args[0], reason: args.dropFirst().joined(separator: " "))
                return PluginOutcome(status: .ok, output: "down \(args[0])")
            }
        } catch let error as SlurmError {
            return .failed(SlurmPlugins.agentError(error))
        } catch {
            return .failed(AgentError(.programFailed, "\(name) failed", cause: "\(error)"))
        }
    }

    private func usage(_ form: String) -> PluginOutcome {
        .failed(AgentError(.badParameters, "usage: \(name) \(form)"))
    }
}
