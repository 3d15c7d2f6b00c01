import ArgumentParser
import Foundation
import VEMManager

/// `vem ask PROPERTY… [--clients PATTERN] [--timeout S]`: what `salt '*' grains.item` is to a Salt admin.
struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask the Clients for properties now; print each answer as it arrives.",
        discussion: """
            The Manager sends one property round (get_property) to the connected Clients whose names match \
            --clients (a shell glob; default all) and streams back each Client's answer as it arrives: one line \
            per Client, `NAME: prop=value …` (an error reading a property is shown as prop=!error). Then one line \
            per Client that did not answer within --timeout, and a summary. Exit status 1 when a Client did not \
            answer. The answers update the Manager's view too (vem props).
            """)

    @Argument(help: "The properties to ask for (none: every property the Clients define).")
    var properties: [String] = []
    @Option(help: "Only the Clients whose names match this shell glob (h*, vm-?, …).") var clients: String?
    @Option(help: "Seconds to wait for the last answer.") var timeout: Double = 5
    @OptionGroup var api: ManagerAPIOptions

    func validate() throws { try usage(AskTranscript.problem(timeout: timeout)) }

    func run() async throws {
        let query = AskTranscript.query(properties: properties, clients: clients, timeout: timeout)
        var transcript = AskTranscript(json: api.json, timeout: timeout)
        try await api.exitOnError { client in
            for try await raw in client.streamLines("/v1/ask", query: query, timeout: timeout + 30) {
                guard let text = transcript.take(raw) else {
                    printError("error: unexpected answer from the Manager: \(raw)")
                    throw ExitCode.failure
                }
                print(text)
            }
        }
        if !transcript.missing.isEmpty { throw ExitCode.failure }
    }
}
