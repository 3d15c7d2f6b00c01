import Foundation
import VEMBus
import VEMCore
import VEMProtocol

extension LoggingTestClient {
    /// `vem bus-client`'s Client: the guest `name` (a fresh incarnation) on NATS when `nats` names servers
    /// (comma-separated; `natsUser` is `USER:PASSWORD`), else on the hub at `hub`; it answers every
    /// `get_property` with its name.
    public static func busClient(
        name: String, group: String?, version: String, token: String, log: String, heartbeat: Duration,
        hub: (host: String, port: Int), nats: String?, natsUser: String?, site: String
    ) -> LoggingTestClient {
        let identity = ClientIdentity(
            name: name, role: .domU, host: ProcessInfo.processInfo.hostName, group: group, version: version,
            incarnation: UInt64.random(in: 1...UInt64(Int64.max)))
        var transport = Transport.hub(host: hub.host, port: hub.port, maximumBackoff: .seconds(1))
        if let nats {
            let credentials = natsUser?.split(separator: ":", maxSplits: 1).map(String.init) ?? []
            transport = .nats(
                servers: nats.split(separator: ",").map(String.init), user: credentials.first,
                password: credentials.count > 1 ? credentials[1] : nil, site: site)
        }
        return LoggingTestClient(
            identity: identity, token: token, logPath: log, heartbeatInterval: heartbeat, transport: transport,
            answer: { _ in [PropertyReading(name: "name", timestampMilliseconds: 0, value: .string(identity.name))] })
    }

    /// `vem manager-test-client`'s Client: `name` in `role` (a fresh incarnation) on the hub at `hub`, answering
    /// `get_property` with the fixed integers of `properties` (`NAME=INTEGER`, as ``integerReading(_:)`` reads
    /// them).
    public static func managerTestClient(
        name: String, role: ClientRole, group: String?, token: String, log: String, hub: (host: String, port: Int),
        properties: [String]
    ) -> LoggingTestClient {
        let readings = properties.compactMap(integerReading)
        let identity = ClientIdentity(
            name: name, role: role, host: "test-host", group: group, version: "1.0.0",
            incarnation: UInt64.random(in: 1...UInt64(Int64.max)))
        return LoggingTestClient(
            identity: identity, token: token, logPath: log, heartbeatInterval: .milliseconds(500),
            transport: .hub(host: hub.host, port: hub.port, maximumBackoff: .milliseconds(200)),
            answer: { request in readings.filter { request.names.isEmpty || request.names.contains($0.name) } })
    }

    /// What is wrong with `vem manager-test-client`'s role (dom0, domU or batch) and properties (`NAME=INTEGER`),
    /// or nil.
    public static func problem(role: String, properties: [String]) -> String? {
        if ClientRole(name: role) == nil { return "--role must be dom0, domU or batch" }
        if properties.contains(where: { integerReading($0) == nil }) { return "--property must be NAME=INTEGER" }
        return nil
    }

    /// `NAME=INTEGER` → a reading; nil when it is not of that form.
    public static func integerReading(_ text: String) -> PropertyReading? {
        let parts = text.split(separator: "=")
        guard parts.count == 2, let value = Int64(parts[1]) else { return nil }
        return PropertyReading(name: String(parts[0]), timestampMilliseconds: 0, value: .int(value))
    }
}
