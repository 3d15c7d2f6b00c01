import VEMConfig
import VEMPolicy
import VEMSite

extension Manager {
    /// `vem reload` (and SIGHUP): reads the site's files again and, when they load without error, swaps in
    /// their triggers, groups, demand properties and planner settings at once — a trigger pass runs wholly on
    /// the old configuration or wholly on the new. A configuration with errors, or one that removes a group
    /// still holding VMs, is refused with its diagnostics and the running one stays. The bus, listen
    /// addresses, journal, credentials and the pool's time-outs are read at start only (the answer says so
    /// when they changed); the revocation list (`tls_revoked`) is read again every time, whatever the rest.
    /// Journaled as a decision by `operatorName`.
    public func reload(by operatorName: String) async -> ActionReport {
        let now = clock.now()
        let revoked = trust.reloadRevocations()
        var result: (accepted: Bool, message: String)
        if configPaths.isEmpty {
            result = (false, "this Manager was not started from configuration files")
        } else {
            result = await swapIn(SiteFiles.load(configPaths))
        }
        if let revoked { result.message += "; " + revoked }
        let message = result.accepted ? result.message : "refused: " + result.message
        do {
            try await journal.recordDecision(
                DecisionRecord(time: now, trigger: operatorName, action: "vem reload", reason: message))
        } catch {
            state.recordError("\(error)", at: now, source: "journal")
        }
        if result.accepted {
            logger.notice("configuration reloaded", metadata: ["operator": "\(operatorName)", "result": "\(message)"])
        } else {
            logger.error("configuration not reloaded", metadata: ["operator": "\(operatorName)", "reason": "\(message)"])
        }
        return ActionReport(
            action: "vem reload", operatorName: operatorName, accepted: result.accepted, message: message, commands: 0)
    }

    private func swapIn(_ loaded: SiteFiles.Loaded) async -> (accepted: Bool, message: String) {
        guard let new = loaded.site else {
            let count = "\(loaded.errors) error\(loaded.errors == 1 ? "" : "s")"
            return (false, "\(count) in the configuration; the running one stays\n" + loaded.diagnostics.joined(separator: "\n"))
        }
        let old = site
        let settings = new.configuration.manager ?? ManagerSettings()
        if let refusal = await pool.reconfigure(
            groups: new.configuration.groups, policy: PolicyConfiguration(settings), migrationURI: settings.migrationURI,
            properties: new.configuration.properties)
        {
            return (false, refusal + "; the running configuration stays")
        }
        triggerWatch.swap(
            triggers: new.triggers, groups: new.configuration.groups,
            demandProperties: pool.demandProperties, declaredProperties: new.configuration.properties.map(\.name))
        replaceSite(new)
        var parts = ["reloaded \(configPaths.joined(separator: ", ")): \(new.triggers.count) triggers"]
        let before = Dictionary(old.triggers.map { ($0.name, $0.definition) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.triggers.map { ($0.name, $0.definition) }, uniquingKeysWith: { a, _ in a })
        let added = after.keys.filter { before[$0] == nil }.sorted()
        let removed = before.keys.filter { after[$0] == nil }.sorted()
        let changed = after.keys.filter { name in
            guard let a = before[name], let b = after[name] else { return false }
            return a.expr.text != b.expr.text || a.cmd.text != b.cmd.text || a.ticks != b.ticks
                || a.onUpdateCheck != b.onUpdateCheck || a.stepBudget != b.stepBudget
        }.sorted()
        if !added.isEmpty { parts.append("added " + added.joined(separator: ", ")) }
        if !removed.isEmpty { parts.append("removed " + removed.joined(separator: ", ")) }
        if !changed.isEmpty { parts.append("changed " + changed.joined(separator: ", ")) }
        parts.append("\(new.configuration.groups.count) groups")
        if !loaded.diagnostics.isEmpty { parts.append("\(loaded.diagnostics.count) warnings") }
        let a = old.configuration.manager ?? ManagerSettings(), b = settings
        let fixed =
            [
                ("bus", "\(a.bus)" != "\(b.bus)"), ("listen", a.listen != b.listen), ("http_listen", a.httpListen != b.httpListen),
                ("journal", a.journal != b.journal), ("token_file", a.tokenFile != b.tokenFile),
                ("client_tokens", a.clientTokens != b.clientTokens), ("heartbeat", a.heartbeatInterval != b.heartbeatInterval),
                ("operation_timeout", a.operationTimeout != b.operationTimeout), ("boot_timeout", a.bootTimeout != b.bootTimeout),
                ("host_list_interval", a.hostListInterval != b.hostListInterval),
            ].filter(\.1).map(\.0)
        if !fixed.isEmpty { parts.append("not applied until a restart: " + fixed.joined(separator: ", ")) }
        return (true, parts.joined(separator: "; "))
    }
}
