import ArgumentParser
import VEMClient
import VEMClientCore
import VEMProtocol

/// The one executable: `vem manager`, `vem agent`, `vem check-config`, `vem eval`, `vem bench`, …
@main
struct VEM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vem",
        abstract: "VEM, the Virtual Environment Manager: group VMs on a shared cluster, following the batch queues.",
        version: "vem \(ClientService.version) (wire format \(WireFormat.version))",
        subcommands: [
            Agent.self, CheckConfig.self, Eval.self, Bench.self, TraceInfoCommand.self, ManagerCommand.self,
            StatusCommand.self, ClientsCommand.self, VMsCommand.self, PropsCommand.self, CommandsCommand.self,
            TriggersCommand.self, SnapshotCommand.self, ExplainCommand.self, AskCommand.self,
            ActionCommand<PauseAction>.self, ActionCommand<ResumeAction>.self, HostCommand.self, VMCommand.self,
            ActionCommand<ReloadAction>.self, ManagerTestClient.self, BusClient.self, BenchClients.self,
            NatsConfig.self, Simulate.self, Demo.self, CACommand.self,
        ])
}
