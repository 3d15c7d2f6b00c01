import ArgumentParser
import Foundation
import VEMBus
import VEMClient
import VEMProtocol
import VEMConfig
import VEMCore
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
        let identity = ClientIdentity(
            name: name, role: .domU, host: ProcessInfo.processInfo.hostName, group: group, version: version,
            incarnation: ClientIdentityResolver.newIncarnation())
        let transport: LoggingTestClient.Transport
        if let nats {
            let credentials = natsUser?.split(separator: ":", maxSplits: 1).map(String.init) ?? []
            transport = .nats(
                servers: nats.split(separator: ",").map(String.init), user: credentials.first,
                password: credentials.count > 1 ? credentials[1] : nil, site: site)
        } else {
            guard let address = HostPort(parsing: connect) else { throw ValidationError("--connect must be HOST:PORT") }
            transport = .hub(host: address.host, port: address.port, maximumBackoff: .seconds(1))
        }
        var client = LoggingTestClient(
            identity: identity, token: token, logPath: log, heartbeatInterval: .milliseconds(heartbeatMs),
            transport: transport,
            answer: { _ in [PropertyReading(name: "name", timestampMilliseconds: 0, value: .string(identity.name))] })
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
        if ClientRole(name: role) == nil { throw ValidationError("--role must be dom0, domU or batch") }
        for p in property where p.split(separator: "=").count != 2 || Int64(p.split(separator: "=")[1]) == nil {
            throw ValidationError("--property must be NAME=INTEGER")
        }
    }

    func run() async throws {
        guard let address = HostPort(parsing: connect) else { throw ValidationError("--connect must be HOST:PORT") }
        let readings = property.map { p -> PropertyReading in
            let parts = p.split(separator: "=")
            return PropertyReading(name: String(parts[0]), timestampMilliseconds: 0, value: .int(Int64(parts[1]) ?? 0))
        }
        let identity = ClientIdentity(
            name: name, role: ClientRole(name: role) ?? .dom0, host: "test-host", group: group, version: "1.0.0",
            incarnation: ClientIdentityResolver.newIncarnation())
        var client = LoggingTestClient(
            identity: identity, token: token, logPath: log, heartbeatInterval: .milliseconds(500),
            transport: .hub(host: address.host, port: address.port, maximumBackoff: .milliseconds(200)),
            answer: { request in readings.filter { request.names.isEmpty || request.names.contains($0.name) } })
        client.commandDelay = .milliseconds(commandDelayMs)
        try await client.runUntilTerminated()
    }
}
