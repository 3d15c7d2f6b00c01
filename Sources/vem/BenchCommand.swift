import ArgumentParser

/// `vem bench …`: benchmark programs (benchmarks are programs, not timed tests).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark and print its figures.",
        subcommands: [BenchRules.self, BenchBus.self]
    )
}
