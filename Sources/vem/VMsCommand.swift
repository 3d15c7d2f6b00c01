import ArgumentParser
import Foundation
import VEMCore
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

    @Option(help: "Only the VMs of this group.")
    var group: String?

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let all = try await api.fetch([VMReport].self, "/v1/vms") else { return }
        let vms = all.filter { group == nil || $0.group == group }
        var rows = [["NAME", "GROUP", "HOST", "STAGE", "SIZE", "CREATED", "NODE", "BUSY", "IDLE SINCE"]]
        for vm in vms {
            let stage = vm.migratingTo.map { "\(vm.stage) → \($0)" } ?? vm.stage
            rows.append([
                vm.name, vm.group, vm.host, stage + (vm.operationPending ? "*" : ""),
                "\(vm.cpus) vCPU / \(vm.memoryMiB) MiB", formatTime(Double(vm.createdAt)),
                vm.registered ? "registered" : (vm.clientJoined ? "joined" : "-"), vm.busy ? "yes" : "no",
                vm.idleSince.map { formatTime(Double($0)) } ?? "-",
            ])
        }
        if vms.isEmpty {
            print(group.map { "no VMs of group \($0)" } ?? "no VMs")
        } else {
            print(TextTable(rows: rows).lines.joined(separator: "\n"))
            if vms.contains(where: \.operationPending) { print("* an operation is under way") }
        }
    }
}
