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
        let path = try await api.exitOnError { try await $0.explainPath(name: name) }
        guard let report = try await api.fetch(ExplainReport.self, path) else { return }
        print(report.text)
    }
}
