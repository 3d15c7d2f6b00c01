import ArgumentParser
import Foundation
import VEMConfig
import VEMManager
import VEMNATS

/// `vem nats-config`: the nats-server accounts configuration for a site's Clients.
struct NatsConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nats-config",
        abstract: "Write the nats-server accounts (users, passwords, permissions, system account) for a site.",
        discussion: """
            Reads the Client list (one Client a line: `name [group]`, `#` comments) and writes a nats-server \
            configuration: a system account with user `sys` (for the Manager's $SYS events), and the site's \
            account with user `manager` (all of vem.<site>.>) and one user per Client, who may publish only to \
            vem.<site>.manager.<name> and subscribe only to vem.<site>.client.<name>, its group's subject and \
            vem.<site>.all. Include the file from each server's configuration (or use it as one). With \
            --site-config, every Client's group must be a [group] of the site. Check it with \
            `nats-server -t -c FILE`.
            """)

    @Option(help: "The Client list.") var clients: String
    @Option(help: "The site name (the second subject token).") var site: String
    @Option(help: "The NATS account of the Manager and Clients.") var account = "VEM"
    @Option(help: "The site's INI files, comma-separated: Client groups are checked against its [group] sections.")
    var siteConfig: String?
    @Option(help: "Where to write the configuration (default: standard output).") var output: String?
    @Option(help: "Where to write `user password` lines for provisioning (mode 0600).") var credentials: String?

    func run() throws {
        guard let data = FileManager.default.contents(atPath: clients) else {
            throw ValidationError("cannot read the client list \(clients)")
        }
        do {
            let list = try NATSAccountsConfig.parseClientList(String(decoding: data, as: UTF8.self))
            if let siteConfig { try NATSAccountsConfig.check(list, groups: try siteGroups(siteConfig)) }
            let config = try NATSAccountsConfig(site: site, account: account, clients: list)
            if let output {
                try write(config.text, to: output)
            } else {
                print(config.text, terminator: "")
            }
            if let credentials { try write(config.credentialsText, to: credentials) }
        } catch let error as NATSError {
            printError("\(clients): error: \(error.message)")
            throw ExitCode.failure
        }
    }

    /// The `[group]` names of the site's files (comma-separated paths).
    private func siteGroups(_ files: String) throws -> Set<String> {
        let (sources, unreadable) = SiteFiles.read(files.split(separator: ",").map(String.init))
        if let path = unreadable.first { throw ValidationError("cannot read the site configuration \(path)") }
        return Set(ConfigLoader.load(sources).partialConfiguration.groups.map(\.name))
    }

    private func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw ValidationError("cannot write \(path)") }
    }
}
