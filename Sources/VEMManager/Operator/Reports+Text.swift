import Foundation
import VEMCore

extension StatusReport {
    /// What `vem status` prints.
    public var text: String {
        let roles = ["dom0", "domU", "batch"].map { "\(connectedByRole[$0] ?? 0) \($0)" }.joined(separator: ", ")
        let counts = commands.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        var lines = [
            "manager: up since \(formatTime(startedAt)) UTC (\(formatAge(now - startedAt)))",
            "bus: \(bus); \(busEvents) events, \(propertyUpdates) property readings, "
                + "\(rejectedConnections) refused connections",
            "clients: \(roles) connected; \(knownClients) known",
            "triggers: \(triggers), \(triggerErrors) failed evaluations",
            "commands: " + (commands.isEmpty ? "none" : counts),
            "journal: \(journal)",
        ]
        if paused == true { lines.append("planner: paused by the operator (vem resume)") }
        if let hosts = drainedHosts, !hosts.isEmpty {
            lines.append("hosts drained: " + hosts.joined(separator: ", ") + " (vem host resume HOST)")
        }
        if let r = recovery, r.clients > 0 || r.markedUnknown > 0 {
            lines.append(
                "recovered: \(r.clients) client streams, \(r.resumed) open commands resumed, "
                    + "\(r.markedUnknown) marked unknown")
        }
        if lastErrors.isEmpty {
            lines.append("last errors: none")
        } else {
            lines.append("last errors:")
            lines += lastErrors.suffix(10).map { "  \(formatTime($0.time))  \($0.source)  \($0.message)" }
        }
        return lines.joined(separator: "\n")
    }
}

extension ClientReport {
    /// What `vem clients` prints.
    public static func table(_ clients: [ClientReport]) -> String {
        var rows = [["NAME", "ROLE", "HOST", "GROUP", "STATE", "SINCE", "LAST SEEN", "PROPS"]]
        for c in clients {
            rows.append([
                c.name, c.role, c.host, c.group ?? "-", c.connected ? "connected" : (c.goneReason ?? "gone"),
                formatTime(c.connectedSince), formatTime(c.lastSeen), String(c.properties),
            ])
        }
        return clients.isEmpty ? "no clients" : TextTable(rows: rows).lines.joined(separator: "\n")
    }
}

extension CommandRecord {
    /// What `vem commands` prints.
    public static func table(_ commands: [CommandRecord]) -> String {
        var rows = [["ID", "CLIENT", "SEQ", "COMMAND", "TRIGGER", "STATE", "UPDATED", "RESULT"]]
        for c in commands {
            rows.append([
                String(c.id), c.client, String(c.seq), c.name, c.trigger ?? "-", c.state.rawValue,
                formatTime(c.updatedAt), c.result ?? "",
            ])
        }
        return commands.isEmpty ? "no commands" : TextTable(rows: rows).lines.joined(separator: "\n")
    }
}

extension TriggerStats {
    /// What `vem triggers` prints.
    public static func table(_ triggers: [TriggerStats]) -> String {
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
        return triggers.isEmpty ? "no triggers" : lines.joined(separator: "\n")
    }
}
