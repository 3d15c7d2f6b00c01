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
            print(SiteSummary(site: site, files: files, warnings: warnings).text)
        }
    }
}
