import ArgumentParser
import Foundation
import VEMManager

/// `vem status`: the bus, Clients by role, triggers, commands and the last errors.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the running Manager's bus, Clients, triggers and last errors.")

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let s = try await api.fetch(StatusReport.self, "/v1/status") else { return }
        print(s.text)
    }
}

/// `vem clients`: every Client the Manager knows.
struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clients", abstract: "List the Manager's Clients.")

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let clients = try await api.fetch([ClientReport].self, "/v1/clients") else { return }
        print(ClientReport.table(clients))
    }
}

/// `vem props [CLIENT]`: the latest property values.
struct PropsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "props", abstract: "Show the latest properties of one Client or of all.")

    @Argument(help: "A Client's name (default: all).") var client: String?
    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        let path = try await api.exitOnError { try await $0.propsPath(client: client) }
        guard let props = try await api.fetch([PropertyRow].self, path) else { return }
        print(PropertyRow.table(props))
    }
}

/// `vem commands`: recent commands and their states.
struct CommandsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands", abstract: "Show recent commands, their states and the triggers that sent them.")

    @Option(help: "How many (newest first).") var limit = 50
    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let commands = try await api.fetch([CommandRecord].self, "/v1/commands?limit=\(limit)") else { return }
        print(CommandRecord.table(commands))
    }
}

/// `vem triggers`: each trigger's evaluations, results, durations and errors.
struct TriggersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triggers", abstract: "Show each trigger's last evaluation, result, duration, errors and counts.")

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let triggers = try await api.fetch([TriggerStats].self, "/v1/triggers") else { return }
        print(TriggerStats.table(triggers))
    }
}

/// `vem snapshot`: the Manager's state as the snapshot JSON that `vem eval --snapshot` reads.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Print the Manager's state as a snapshot for `vem eval --snapshot` (docs/SNAPSHOT.md).")

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        // Always JSON: `--json` is accepted for symmetry with the other commands.
        let data = try await api.get("/v1/snapshot")
        print(String(decoding: data, as: UTF8.self))
    }
}
