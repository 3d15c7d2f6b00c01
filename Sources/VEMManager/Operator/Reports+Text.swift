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

extension PropertyRow {
    /// What `vem props` prints.
    public static func table(_ props: [PropertyRow]) -> String {
        var rows = [["CLIENT", "PROPERTY", "VALUE", "AGE"]]
        for p in props {
            rows.append([p.client, p.name, p.value?.brief ?? "error: \(p.error ?? "?")", formatAge(p.age)])
        }
        return props.isEmpty ? "no properties" : TextTable(rows: rows).lines.joined(separator: "\n")
    }
}

extension VMReport {
    /// What `vem vms` prints: the VMs of `group` (nil: all).
    public static func table(_ all: [VMReport], group: String?) -> String {
        let vms = all.filter { group == nil || $0.group == group }
        guard !vms.isEmpty else { return group.map { "no VMs of group \($0)" } ?? "no VMs" }
        var rows = [["NAME", "GROUP", "HOST", "STAGE", "SIZE", "CREATED", "NODE", "BUSY", "IDLE SINCE"]]
        for vm in vms {
            let stage = vm.migratingTo.map { "\(vm.stage) → \($0)" } ?? vm.stage
            rows.append([
                vm.name, vm.group, vm.host, stage + (vm.operationPending ? "*" : ""),
                "\(vm.cpus) vCPU / \(vm.memoryMiB) MiB", formatTime(Double(vm.createdAt)),
                vm.registered ? "registered" : (vm.clientJoined ? "joined" : "-"), vm.busy ? "yes" : "no",
                vm.idleSince.map { formatTime(Double($0)) } ?? "-",
            ])
        }
        var lines = TextTable(rows: rows).lines
        if vms.contains(where: \.operationPending) { lines.append("* an operation is under way") }
        return lines.joined(separator: "\n")
    }
}

extension ExplainReport {
    /// What `vem explain` prints.
    public var text: String {
        var lines: [String] = []
        if let explanation {
            lines.append("last rebalance (trigger \(trigger ?? "?")):")
            lines += explanation.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        } else {
            lines.append("no rebalance yet")
        }
        lines.append(subject.map { "decisions about \($0):" } ?? "latest decisions:")
        if decisions.isEmpty { lines.append("  none") }
        for d in decisions {
            let about = [d.vm, d.group.map { "group \($0)" }].compactMap { $0 }.joined(separator: ", ")
            lines.append(
                "  \(formatTime(d.time))  [\(d.trigger)] \(d.action)\(about.isEmpty ? "" : " \(about)"): \(d.reason)")
        }
        return lines.joined(separator: "\n")
    }
}

extension AskLine {
    /// What `vem ask` prints for this line: `NAME: prop=value …` for an answer (an error reading a property as
    /// `prop=!error`); on the last line, one line per Client that did not answer within `timeout` seconds and
    /// the summary.
    public func text(timeout: Double) -> String {
        if let client {
            let readings = (readings ?? []).map { r in
                "\(r.name)=\(r.error.map { "!\($0)" } ?? r.value?.brief ?? "None")"
            }
            return "\(client): \(readings.isEmpty ? "(no properties)" : readings.joined(separator: " "))"
        }
        let missing = missing ?? []
        let asked = asked ?? 0
        var lines = missing.map { "\($0): no answer within \(timeout.formatted()) s" }
        lines.append(
            "\(asked - missing.count) of \(asked) Client\(asked == 1 ? "" : "s") answered in "
                + String(format: "%.3f s", elapsed))
        return lines.joined(separator: "\n")
    }
}
