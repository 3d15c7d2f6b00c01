import ArgumentParser

/// `vem bench-clients` (hidden): the load process of `vem bench bus` (placeholder until the benchmark lands).
struct BenchClients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-clients", abstract: "Simulated Clients for `vem bench bus`.", shouldDisplay: false)
    func run() async throws {}
}
