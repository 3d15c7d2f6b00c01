import Foundation
import VEMCore

/// The human summary of a loaded site, as `vem check-config` prints it.
public struct SiteSummary: Sendable {
    /// The site.
    public var site: Site
    /// The files it was loaded from.
    public var files: [String]
    /// How many warnings loading it gave.
    public var warnings: Int

    /// A summary of `site`, loaded from `files` with `warnings` warnings.
    public init(site: Site, files: [String], warnings: Int) {
        self.site = site
        self.files = files
        self.warnings = warnings
    }

    /// The summary for people: counts, settings, and a table per kind of definition.
    public var text: String {
        let c = site.configuration
        var lines = ["loaded \(files.joined(separator: ", ")): \(count(c.properties.count, "property", "properties")), "
            + "\(count(c.triggers.count, "trigger")), \(count(c.commands.count, "command")), "
            + "\(count(c.groups.count, "group")), \(count(warnings, "warning"))"]
        if let m = c.manager {
            lines.append("manager: bus \(m.bus.rawValue), listen \(m.listen), heartbeat \(formatDuration(m.heartbeatInterval))")
            lines.append(
                "policy: \(m.placement.rawValue), ≤ \(m.maxBooting) booting (\(m.maxBootingPerHost) per host), "
                    + "idle timeout \(formatDuration(m.idleTimeout)), min lifetime \(formatDuration(m.minLifetime)), "
                    + "starvation grace \(formatDuration(m.starvationGrace)), migration \(m.migration ? "yes" : "no")")
        }
        if let client = c.client {
            lines.append("client: \(client.name ?? "(host name)") role \(client.role.name), manager \(client.manager)")
        }
        section("properties", c.properties.map {
            [$0.name, "plugin \($0.command)" + ($0.parameters.isEmpty ? "" : "(\($0.parameters))"),
             "-> \($0.returnType.rawValue)", "every \($0.ticks) s"]
        }, into: &lines)
        section("triggers", site.triggers.map { t in
            let d = t.definition
            let when = [d.ticks > 0 ? "every \(d.ticks) s" : nil, d.onUpdateCheck ? "on update" : nil]
                .compactMap { $0 }.joined(separator: ", ")
            return [d.name, when.isEmpty ? "never" : when, "budget \(t.limits.maxSteps) steps"]
                + (d.location.file == DefaultTriggers.fileName ? ["(default)"] : [])
        }, into: &lines)
        section("commands", c.commands.map {
            [$0.name, "plugin \($0.plugin)", $0.program ?? "", "timeout \(formatDuration($0.timeout))"]
        }, into: &lines)
        section("groups", c.groups.map {
            [$0.name, "share \($0.share)%", "vm \($0.vmVCPUs) vCPU / \($0.vmMemoryMiB) MiB",
             "vms \($0.minVMs)…\($0.maxVMs.map(String.init) ?? "∞")"]
        }, into: &lines)
        return lines.joined(separator: "\n")
    }

    private func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
    }

    private func section(_ title: String, _ rows: [[String]], into lines: inout [String]) {
        guard !rows.isEmpty else { return }
        lines.append("\(title):")
        lines += TextTable(rows: rows).lines.map { "  " + $0 }
    }
}

extension Site {
    /// The loaded configuration as JSON (`vem check-config --json`), pretty-printed with sorted keys. Never a
    /// secret: an inline token is shown as `(redacted)`.
    public func configurationJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var configuration = configuration
        if configuration.client?.token != nil { configuration.client?.token = "(redacted)" }
        return String(decoding: try encoder.encode(configuration), as: UTF8.self)
    }
}
