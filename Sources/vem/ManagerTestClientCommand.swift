import ArgumentParser
import Foundation
import Logging
import VEMBus
import VEMHub
import VEMProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// `vem manager-test-client` (hidden): one Client on the embedded hub for the Manager's integration tests. It
/// executes each command by appending `seq name` to a log file (fsync'd before the result is reported), so a
/// test can SIGKILL the Manager or the Client at any moment and check that no command ran twice; and it answers
/// `get_property` with fixed values.
struct ManagerTestClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager-test-client",
        abstract: "Connect to a Manager as one Client that logs the commands it executes (for tests).",
        shouldDisplay: false
    )

    @Option(help: "The Manager's hub address, HOST:PORT.")
    var connect: String

    @Option(help: "The Client's name.")
    var name: String

    @Option(help: "The token to present.")
    var token = ""

    @Option(help: "The file to append `seq name` lines to.")
    var log: String

    @Option(help: "dom0, domU or batch.")
    var role = "dom0"

    @Option(help: "The Client's group.")
    var group: String?

    @Option(help: "A property answered to get_property, NAME=INTEGER (repeatable).")
    var property: [String] = []

    @Option(help: "Milliseconds each command takes after its line is written.")
    var commandDelayMs = 0

    func validate() throws {
        if address == nil { throw ValidationError("--connect must be HOST:PORT") }
        if !["dom0", "domU", "batch"].contains(role) { throw ValidationError("--role must be dom0, domU or batch") }
        for p in property where p.split(separator: "=").count != 2 || Int64(p.split(separator: "=")[1]) == nil {
            throw ValidationError("--property must be NAME=INTEGER")
        }
    }

    var address: (host: String, port: Int)? {
        guard let colon = connect.lastIndex(of: ":"), let port = Int(connect[connect.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        return (String(connect[..<colon]), port)
    }

    func run() async throws {
        guard let (host, port) = address else { throw ValidationError("--connect must be HOST:PORT") }
        let file = try AppendOnlyLog(path: log)
        let delay = commandDelayMs
        let readings = property.map { p -> PropertyReading in
            let parts = p.split(separator: "=")
            return PropertyReading(name: String(parts[0]), timestampMilliseconds: 0, value: .int(Int64(parts[1]) ?? 0))
        }
        let clientRole: ClientRole = role == "domU" ? .domU : role == "batch" ? .batch : .dom0
        let identity = ClientIdentity(
            name: name, role: clientRole, host: "test-host", group: group, version: "1.0.0",
            incarnation: UInt64.random(in: 1...UInt64.max))
        var logger = Logger(label: "vem.manager-test-client")
        logger.logLevel = .warning
        let client = HubClient(
            configuration: HubClientConfiguration(
                host: host, port: port, heartbeatInterval: .milliseconds(500),
                backoff: .init(initial: .milliseconds(20), maximum: .milliseconds(200))),
            identity: identity, token: token,
            handlers: ClientHandlers(
                execute: { command in
                    let ok = file.append("\(command.seq) \(command.name)\n")
                    if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
                    return CommandResult(seq: command.seq, status: ok ? .ok : .failed, error: ok ? nil : "log write failed")
                },
                properties: { request in
                    PropertyReport(
                        requestID: request.requestID,
                        readings: readings.filter { request.names.isEmpty || request.names.contains($0.name) })
                }),
            logger: logger)
        // SIGTERM ends this incarnation gracefully: the client says `bye`, so the Manager knows at once that
        // commands it never confirmed have an unknown outcome. (SIGKILL gives no such chance.)
        signal(SIGTERM, SIG_IGN)
        let task = Task { try await client.run() }
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler { task.cancel() }
        source.resume()
        defer { source.cancel() }
        try await task.value
    }
}
