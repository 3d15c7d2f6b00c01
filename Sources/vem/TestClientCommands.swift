import ArgumentParser
import VEMCore
import VEMConfig
import VEMTestKit

/// `vem bus-client` (hidden): a ``VEMTestKit/LoggingTestClient`` on the hub or NATS for the bus's tests and
/// benches. It exits when its standard input reaches end of file, so it never outlives the test (or bench) that
/// started it with a pipe.
struct BusClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus-client",
        abstract: "Connect to a hub as one Client and execute commands by appending them to a log (for tests).",
        shouldDisplay: false)

    @Option(help: "The Manager's address, HOST:PORT (the hub).") var connect: String = ""
    @Option(help: "Use the NATS bus instead of the hub: comma-separated server URLs.") var nats: String?
    @Option(help: "NATS user and password (with --nats), USER:PASSWORD.") var natsUser: String?
    @Option(help: "The site name (with --nats).") var site = "site"
    @Option(help: "The Client's name.") var name: String
    @Option(help: "The token to present.") var token: String
    @Option(help: "The file to append `seq name` lines to (created if missing).") var log: String
    @Option(help: "The Client's group.") var group: String?
    @Option(help: "The Client's software version.") var version = "1.0.0"
    @Option(help: "Heartbeat interval in milliseconds until the Manager announces its own.") var heartbeatMs = 1_000
    @Option(help: "Milliseconds each command takes (after its line is written).") var commandDelayMs = 0

    func validate() throws {
        if HostPort(parsing: connect) == nil && nats == nil { throw ValidationError("--connect must be HOST:PORT") }
    }

    func run() async throws {
        let hub = HostPort(parsing: connect) ?? HostPort(host: "", port: 0)
        var client = LoggingTestClient.busClient(
            name: name, group: group, version: version, token: token, log: log, heartbeat: .milliseconds(heartbeatMs),
            hub: (hub.host, hub.port), nats: nats, natsUser: natsUser, site: site)
        client.commandDelay = .milliseconds(commandDelayMs)
        try await client.runUntilEndOfInput()
    }
}

/// `vem manager-test-client` (hidden): a ``VEMTestKit/LoggingTestClient`` on the hub for the Manager's
/// integration tests, answering `get_property` with fixed integers. SIGTERM ends it gracefully (it says `bye`, so
/// the Manager knows at once that commands it never confirmed have an unknown outcome); SIGKILL gives no chance.
struct ManagerTestClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager-test-client",
        abstract: "Connect to a Manager as one Client that logs the commands it executes (for tests).",
        shouldDisplay: false)

    @Option(help: "The Manager's hub address, HOST:PORT.") var connect: String
    @Option(help: "The Client's name.") var name: String
    @Option(help: "The token to present.") var token = ""
    @Option(help: "The file to append `seq name` lines to.") var log: String
    @Option(help: "dom0, domU or batch.") var role = "dom0"
    @Option(help: "The Client's group.") var group: String?
    @Option(help: "A property answered to get_property, NAME=INTEGER (repeatable).") var property: [String] = []
    @Option(help: "Milliseconds each command takes after its line is written.") var commandDelayMs = 0

    func validate() throws {
        if HostPort(parsing: connect) == nil { throw ValidationError("--connect must be HOST:PORT") }
        try usage(LoggingTestClient.problem(role: role, properties: property))
    }

    func run() async throws {
        guard let hub = HostPort(parsing: connect) else { throw ValidationError("--connect must be HOST:PORT") }
        var client = LoggingTestClient.managerTestClient(
            name: name, role: ClientRole(name: role) ?? .dom0, group: group, token: token, log: log,
            hub: (hub.host, hub.port), properties: property)
        client.commandDelay = .milliseconds(commandDelayMs)
        try await client.runUntilTerminated()
    }
}
