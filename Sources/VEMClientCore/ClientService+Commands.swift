import VEMAgent
import VEMConfig
import VEMProtocol

extension ClientService {
    /// Executes one command from the bus's command stream (called one at a time, in stream order).
    func execute(_ command: Command) async -> CommandResult {
        let current = generation
        let request: CommandRequest
        switch CommandMapping.request(for: command, sequence: nextSequence, configuration: current.configuration) {
        case .success(let r): request = r
        case .failure(let error): return CommandMapping.result(.refused(error.description), seq: command.seq)
        }
        nextSequence += 1
        var outcome = await current.runner.execute(request)
        switch outcome.directive {
        case .reload?:
            outcome = reload(outcome)
        case .shutdown?:
            shutdownSeq.withLock { $0 = command.seq }
        case .publish(let samples)?:
            let readings = samples.map { PropertyMapping.reading($0, clock: clock) }
            if !readings.isEmpty, let bus { try? bus.send(.property(PropertyReport(readings: readings))) }
        case nil:
            break
        }
        return CommandMapping.result(outcome, seq: command.seq)
    }

    /// Re-reads the configuration files; on success the new properties, commands and allowlist take effect,
    /// on failure the old configuration stays and the outcome carries the diagnostics.
    private func reload(_ requested: PluginOutcome) -> PluginOutcome {
        var outcome = requested
        outcome.directive = nil
        let current = generation.configuration
        do throws(ClientError) {
            let loaded = try loader.load()
            let next = try ClientGeneration(
                configuration: loaded.configuration, propertyRegistry: propertyRegistry,
                extraCommands: options.extraCommands, clock: clock, options: options, seed: seed,
                firstSequence: nextSequence)
            generation = next
            reloads += 1
            startReader()
            let c = loaded.configuration
            let before = current.settings
            let after = c.settings
            let restartOnly =
                before.manager != after.manager || before.bus != after.bus || before.nats != after.nats
                || before.token != after.token || before.tokenFile != after.tokenFile || before.name != after.name
                || before.role != after.role || before.host != after.host || before.group != after.group
                || before.vmID != after.vmID || before.heartbeatInterval != after.heartbeatInterval
            outcome.output =
                "reloaded \(loader.paths.joined(separator: ", ")): \(c.properties.count) properties, "
                + "\(c.commands.count) commands"
                + (restartOnly
                    ? "\nnote: changes to the connection and identity settings take effect at the next start" : "")
                + (loaded.warnings.isEmpty ? "" : "\n" + loaded.warnings.joined(separator: "\n"))
            logger.info("configuration reloaded")
        } catch {
            var text = "reload refused; the previous configuration stays in effect:\n" + error.message
            if text.utf8.count > options.errorLimit { text = String(text.utf8.prefix(options.errorLimit)) ?? text }
            outcome.status = .failed
            outcome.error = text
            outcome.output = ""
            logger.error("reload refused; keeping the previous configuration")
        }
        return outcome
    }
}
