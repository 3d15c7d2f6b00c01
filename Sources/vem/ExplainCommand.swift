import ArgumentParser
import Foundation
import VEMManager

/// `vem explain [VM|GROUP]`: why the pool looks as it does.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain the last rebalance and show the decisions about a VM or group (default: the last 20).")

    @Argument(help: "A VM or group name (default: the latest decisions).") var name: String?
    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        let query = name.map { "?name=" + ($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0) } ?? ""
        if let name {
            // A name with no decisions must at least be a VM, a group or a Client the Manager knows.
            let data = try await api.get("/v1/explain" + query)
            let report = try? JSONDecoder().decode(ExplainReport.self, from: data)
            if report?.decisions.isEmpty ?? true {
                try await api.exitOnError { try await $0.require(name, among: ["vms", "groups", "clients"], kind: "VM or group") }
            }
        }
        guard let report = try await api.fetch(ExplainReport.self, "/v1/explain" + query) else { return }
        print(report.text)
    }
}
