import ArgumentParser
import Foundation
import NIOPosix

extension BenchClients {
    /// `--mode nats`: raw NATS protocol Clients (see ``NATSSimulatedClients``), same stdin commands.
    func runNATS() async throws {
        guard let colon = connect.lastIndex(of: ":"), let port = Int(connect[connect.index(after: colon)...]) else {
            throw ValidationError("--connect must be HOST:PORT")
        }
        guard let credentials, let data = FileManager.default.contents(atPath: credentials) else {
            throw ValidationError("--mode nats needs a readable --credentials file")
        }
        var passwords: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1)
            if fields.count == 2 { passwords[String(fields[0])] = String(fields[1]) }
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let simulated = NATSSimulatedClients(
            configuration: .init(
                host: String(connect[..<colon]), port: port, count: clients, token: token, site: site,
                passwords: passwords),
            group: group)
        try await simulated.connectAll()
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        while let line = readLine() {
            let words = line.split(separator: " ")
            if words.first == "ingest", words.count == 4, let burst = Int(words[1]), let milliseconds = Int(words[2]),
                let senders = Int(words[3])
            {
                try await simulated.ingest(burst: burst, duration: .milliseconds(milliseconds), senders: senders)
                FileHandle.standardOutput.write(Data("ingest-done\n".utf8))
            } else if words.first == "quit" {
                break
            }
        }
        await simulated.closeAll()
        try await group.shutdownGracefully()
    }
}
