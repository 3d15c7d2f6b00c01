import ArgumentParser
import Foundation
import VEMCore
import VEMManager

/// `vem status`: the bus, Clients by role, triggers, commands and the last errors.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the running Manager's bus, Clients, triggers and last errors.")

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let s = try await api.fetch(StatusReport.self, "/v1/status") else { return }
        let roles = ["dom0", "domU", "batch"].map { "\(s.connectedByRole[$0] ?? 0) \($0)" }.joined(separator: ", ")
        var lines = [
            "manager: up since \(formatTime(s.startedAt)) UTC (\(formatAge(s.now - s.startedAt)))",
            "bus: \(s.bus); \(s.busEvents) events, \(s.propertyUpdates) property readings, \(s.rejectedConnections) refused connections",
            "clients: \(roles) connected; \(s.knownClients) known",
            "triggers: \(s.triggers), \(s.triggerErrors) failed evaluations",
            "commands: " + (s.commands.isEmpty ? "none" : s.commands.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")),
            "journal: \(s.journal)",
        ]
        if let r = s.recovery, r.clients > 0 || r.markedUnknown > 0 {
            lines.append("recovered: \(r.clients) client streams, \(r.resumed) open commands resumed, \(r.markedUnknown) marked unknown")
        }
        if s.lastErrors.isEmpty {
            lines.append("last errors: none")
        } else {
            lines.append("last errors:")
            lines += s.lastErrors.suffix(10).map { "  \(formatTime($0.time))  \($0.source)  \($0.message)" }
        }
        print(lines.joined(separator: "\n"))
    }
}

/// `vem clients`: every Client the Manager knows.
struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clients", abstract: "List the Manager's Clients.")

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let clients = try await api.fetch([ClientReport].self, "/v1/clients") else { return }
        var rows = [["NAME", "ROLE", "HOST", "GROUP", "STATE", "SINCE", "LAST SEEN", "PROPS"]]
        for c in clients {
            rows.append([
                c.name, c.role, c.host, c.group ?? "-", c.connected ? "connected" : (c.goneReason ?? "gone"),
                formatTime(c.connectedSince), formatTime(c.lastSeen), String(c.properties),
            ])
        }
        print(clients.isEmpty ? "no clients" : TextTable(rows: rows).lines.joined(separator: "\n"))
    }
}

/// `vem props [CLIENT]`: the latest property values.
struct PropsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "props", abstract: "Show the latest properties of one Client or of all.")

    @Argument(help: "A Client's name (default: all).")
    var client: String?

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        let query = client.map { "?client=" + ($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0) } ?? ""
        if let client { try api.require(client, among: try await api.knownNames(["clients"]), kind: "Client") }
        guard let props = try await api.fetch([PropertyRow].self, "/v1/props" + query) else { return }
        var rows = [["CLIENT", "PROPERTY", "VALUE", "AGE"]]
        for p in props {
            rows.append([p.client, p.name, p.value?.brief ?? "error: \(p.error ?? "?")", formatAge(p.age)])
        }
        print(props.isEmpty ? "no properties" : TextTable(rows: rows).lines.joined(separator: "\n"))
    }
}

/// `vem commands`: recent commands and their states.
struct CommandsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands", abstract: "Show recent commands, their states and the triggers that sent them.")

    @Option(help: "How many (newest first).")
    var limit = 50

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let commands = try await api.fetch([CommandRecord].self, "/v1/commands?limit=\(limit)") else { return }
        var rows = [["ID", "CLIENT", "SEQ", "COMMAND", "TRIGGER", "STATE", "UPDATED", "RESULT"]]
        for c in commands {
            rows.append([
                String(c.id), c.client, String(c.seq), c.name, c.trigger ?? "-", c.state.rawValue,
                formatTime(c.updatedAt), c.result ?? "",
            ])
        }
        print(commands.isEmpty ? "no commands" : TextTable(rows: rows).lines.joined(separator: "\n"))
    }
}

/// `vem triggers`: each trigger's evaluations, results, durations and errors.
struct TriggersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triggers", abstract: "Show each trigger's last evaluation, result, duration, errors and counts.")

    @OptionGroup var api: ManagerAPIOptions

    func run() async throws {
        guard let triggers = try await api.fetch([TriggerStats].self, "/v1/triggers") else { return }
        var rows = [["TRIGGER", "EVERY", "ON UPDATE", "EVALS", "FIRED", "ERRORS", "LAST", "RESULT", "MS"]]
        for t in triggers {
            rows.append([
                t.name, t.ticks > 0 ? "\(t.ticks)s" : "-", t.onUpdateCheck ? "yes" : "no", String(t.evaluations),
                String(t.fired), String(t.errors), formatTime(t.lastEvaluation), t.lastResult ?? "-",
                t.lastDurationMilliseconds.map { String(format: "%.2f", $0) } ?? "-",
            ])
        }
        var lines = TextTable(rows: rows).lines
        for t in triggers where t.lastError != nil {
            lines.append("\(t.name): last error at \(formatTime(t.lastErrorTime)): \(t.lastError ?? "")")
        }
        print(triggers.isEmpty ? "no triggers" : lines.joined(separator: "\n"))
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
