import ArgumentParser
import VEMManager

/// `vem vms`: the pool's VMs as the Manager follows them.
struct VMsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vms",
        abstract: "List the pool's VMs: group, host, stage in their life, batch node state.",
        discussion: """
            Stages: creating (vm.create sent), booting (waiting for its DomU Client), registering (its node is \
            being added to the batch system), active, draining, removing (its node leaves the batch system), \
            destroying. BUSY is what the batch system last said; `vem explain VM` says why the VM is there.
            """)

    @Option(help: "Only the VMs of this group.") var group: String?
    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let vms = try await api.fetch([VMReport].self, "/v1/vms") else { return }
        print(VMReport.table(vms, group: group))
    }
}
