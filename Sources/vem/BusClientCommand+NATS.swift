import ArgumentParser
import Logging
import VEMBus
import VEMNATS

extension BusClient {
    /// `vem bus-client --nats …`: the same test Client on the NATS bus.
    func runOnNATS(servers: String, identity: ClientIdentity, handlers: ClientHandlers, logger: Logger) async throws {
        let credentials = natsUser?.split(separator: ":", maxSplits: 1).map(String.init) ?? []
        let client = try NATSClient(
            configuration: NATSClientConfiguration(
                connection: NATSConnectionOptions(
                    servers: servers.split(separator: ",").map(String.init),
                    user: credentials.first, password: credentials.count > 1 ? credentials[1] : nil),
                site: site, heartbeatInterval: .milliseconds(heartbeatMs)),
            identity: identity, token: token, handlers: handlers, logger: logger)
        try await client.run()
    }
}
