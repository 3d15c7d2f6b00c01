import ArgumentParser
import Foundation
import VEMConfig
import VEMCore
import VEMSite

/// `vem check-config FILE…`: loads configuration files, reports every problem, and summarises what loaded.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check configuration files and print what they define.",
        discussion: """
            Loads the INI files as one site (a site may split properties, triggers, groups and settings \
            across files), compiles every trigger's expr and cmd, and prints every diagnostic as \
            file:line:col: error|warning: message, with the line and a caret. Exits 0 when there is no \
            error, 1 when there is one.
            """
    )

    @Argument(help: "The configuration files, loaded in order.")
    var files: [String]

    @Flag(
        help: "Print the loaded configuration as JSON (on standard output; diagnostics stay on standard error; an inline token is redacted)."
    )
    var json = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one configuration file") }
    }

    func run() throws {
        var sources: [ConfigSource] = []
        var unreadable: [String] = []
        for path in files {
            if let data = FileManager.default.contents(atPath: path) {
                sources.append(ConfigSource(name: path, bytes: [UInt8](data)))
            } else {
                unreadable.append(path)
            }
        }
        for path in unreadable { printError("\(path): error: cannot read file") }
        let result = Site.load(sources)
        var renderer = DiagnosticRenderer()
        renderer.addConfigSources(sources)
        for diagnostic in result.diagnostics { printError(renderer.render(diagnostic)) }
        let errors = result.diagnostics.filter { $0.severity == .error }.count + unreadable.count
        let warnings = result.diagnostics.filter { $0.severity == .warning }.count
        guard let site = result.site, unreadable.isEmpty else {
            printError("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            throw ExitCode.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // Never a secret on standard output: an inline token is shown as redacted.
            var configuration = site.configuration
            if configuration.client?.token != nil { configuration.client?.token = "(redacted)" }
            print(String(decoding: try encoder.encode(configuration), as: UTF8.self))
        } else {
            print(ConfigSummary(site: site, files: files, warnings: warnings).text)
        }
    }
}

/// The human summary of a loaded site, as `vem check-config` prints it.
struct ConfigSummary {
    var site: Site
    var files: [String]
    var warnings: Int

    var text: String {
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
            lines.append("client: \(client.name ?? "(host name)") role \(client.role.rawValue), manager \(client.manager)")
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
        lines += Table(rows: rows).lines.map { "  " + $0 }
    }
}
