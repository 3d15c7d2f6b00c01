import Foundation
import VEMAgent
import VEMBatch
import VEMCore

/// The batch Client's plugins for the replay batch, the same shape as the Slurm driver's: commands
/// `replay.register node group cpus memory_mb [address]` (the address is accepted, as `slurm.register` takes it,
/// and ignored), `replay.drain node reason…`, `replay.resume node`, `replay.remove node`, `replay.down node
/// reason…` (its jobs requeued, then drained), and the property `replay.demand` (the JSON of a
/// ``VEMBatch/BatchSnapshot``).
public enum ReplayPlugins {
    /// Every plugin, for registration in a Client's plugin registry.
    public static func commands(_ replay: LiveReplay) -> [any CommandPlugin] {
        ReplayNodeCommand.Action.allCases.map { ReplayNodeCommand($0, replay: replay) }
    }

    /// The `replay.demand` property plugin.
    public static func demand(_ replay: LiveReplay) -> any PropertyPlugin { ReplayDemandPlugin(replay: replay) }
}

/// `replay.register`, `replay.drain`, `replay.resume`, `replay.remove`, `replay.down`.
public struct ReplayNodeCommand: CommandPlugin {
    /// What the plugin does.
    public enum Action: String, Sendable, CaseIterable {
        /// `replay.register node group cpus memory_mb [address]`.
        case register
        /// `replay.drain node reason…`.
        case drain
        /// `replay.resume node`.
        case resume
        /// `replay.remove node`.
        case remove
        /// `replay.down node reason…`: a lost or preempted VM's node; its jobs are requeued (as Slurm's
        /// `State=DOWN` does) and it takes no new one (``VEMBatch/ReplayBatch/down(node:reason:)``).
        case down
    }

    /// The action.
    public let action: Action
    let replay: LiveReplay

    /// `replay.<action>`.
    public var name: String { "replay." + action.rawValue }

    /// Creates the plugin.
    public init(_ action: Action, replay: LiveReplay) {
        self.action = action
        self.replay = replay
    }

    /// Runs the command on the replay. Outcomes: `ok`; `failed` with the replay's reason (unknown node, busy
    /// node, duplicate name, bad argument).
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        let args = request.arguments
        do {
            switch action {
            case .register:
                guard args.count == 4 || args.count == 5, let cpus = Int(args[2]), let memory = Int(args[3]) else {
                    return usage("node group cpus memory_mb [address]")
                }
                try replay.withBatch {
                    try $0.register(NodeRegistration(name: args[0], group: args[1], cpus: cpus, memoryMB: memory))
                }
                return PluginOutcome(status: .ok, output: "registered \(args[0])")
            case .drain:
                guard args.count >= 1 else { return usage("node reason…") }
                try replay.withBatch { try $0.drain(node: args[0], reason: args.dropFirst().joined(separator: " ")) }
                return PluginOutcome(status: .ok, output: "drained \(args[0])")
            case .resume:
                guard args.count == 1 else { return usage("node") }
                try replay.withBatch { try $0.resume(node: args[0]) }
                return PluginOutcome(status: .ok, output: "resumed \(args[0])")
            case .remove:
                guard args.count == 1 else { return usage("node") }
                try replay.withBatch { try $0.remove(node: args[0]) }
                return PluginOutcome(status: .ok, output: "removed \(args[0])")
            case .down:
                guard args.count >= 1 else { return usage("node reason…") }
                let reason = args.dropFirst().joined(separator: " ")
                _ = try replay.withBatch { try $0.down(node: args[0], reason: reason) }
                return PluginOutcome(status: .ok, output: "down \(args[0])")
            }
        } catch let error as BatchError {
            let code: AgentError.Code =
                switch error.code {
                case .unknownNode: .notFound
                case .invalidArgument, .duplicateNode: .badParameters
                default: .programFailed
                }
            return .failed(AgentError(code, "\(name): \(error.message)"))
        } catch {
            return .failed(AgentError(.programFailed, "\(name) failed", cause: "\(error)"))
        }
    }

    private func usage(_ form: String) -> PluginOutcome {
        .failed(AgentError(.badParameters, "usage: \(name) \(form)"))
    }
}

/// `replay.demand [group…]`: the demand and nodes of every group (or of those named), as a
/// ``VEMBatch/BatchSnapshot`` dict — the same as the Slurm driver's `slurm.demand`.
public struct ReplayDemandPlugin: PropertyPlugin {
    /// `replay.demand`.
    public let name = "replay.demand"
    let replay: LiveReplay

    /// Creates the plugin.
    public init(replay: LiveReplay) { self.replay = replay }

    /// The snapshot as a dict.
    public func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
        var snapshot = replay.snapshot()
        if !parameters.isEmpty { snapshot.groups = snapshot.groups.filter { parameters.contains($0.group) } }
        return try PropertyValue(encoding: snapshot)
    }
}
