import ArgumentParser
import Foundation
import VEMCore
import VEMManager

/// `vem explain [VM|GROUP]`: why the pool looks as it does.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain the last rebalance and show the decisions about a VM or group (default: the last 20).")

    @Argument(help: "A VM or group name (default: the latest decisions).")
    var name: String?

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        let query = name.map { "?name=" + ($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0) } ?? ""
        if let name {
            // A name with no decisions must at least be a VM, a group or a Client the Manager knows.
            let data = try await api.get("/v1/explain" + query)
            let report = try? JSONDecoder().decode(ExplainReport.self, from: data)
            if report?.decisions.isEmpty ?? true {
                let known = try await api.knownNames(["vms", "groups", "clients"])
                try api.require(name, among: known, kind: "VM or group")
            }
        }
        guard let r = try await api.fetch(ExplainReport.self, "/v1/explain" + query) else { return }
        var lines: [String] = []
        if let explanation = r.explanation {
            lines.append("last rebalance (trigger \(r.trigger ?? "?")):")
            lines += explanation.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        } else {
            lines.append("no rebalance yet")
        }
        lines.append(r.subject.map { "decisions about \($0):" } ?? "latest decisions:")
        if r.decisions.isEmpty { lines.append("  none") }
        for d in r.decisions {
            let about = [d.vm, d.group.map { "group \($0)" }].compactMap { $0 }.joined(separator: ", ")
            lines.append(
                "  \(formatTime(d.time))  [\(d.trigger)] \(d.action)\(about.isEmpty ? "" : " \(about)"): \(d.reason)")
        }
        print(lines.joined(separator: "\n"))
    }
}
