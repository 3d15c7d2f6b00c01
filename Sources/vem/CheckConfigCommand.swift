import ArgumentParser
import VEMManager
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
            """)

    @Argument(help: "The configuration files, loaded in order.") var files: [String]
    @Flag(
        help: "Print the loaded configuration as JSON (on standard output; diagnostics stay on standard error; an inline token is redacted)."
    )
    var json = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one configuration file") }
    }

    func run() throws {
        let loaded = SiteFiles.load(files, checkingAll: true)
        for diagnostic in loaded.diagnostics { printError(diagnostic) }
        let (errors, warnings) = (loaded.errors, loaded.warnings)
        guard let site = loaded.site else {
            printError("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            throw ExitCode.failure
        }
        print(json ? try site.configurationJSON() : SiteSummary(site: site, files: files, warnings: warnings).text)
    }
}
