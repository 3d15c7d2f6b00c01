import Foundation
import Logging
import Synchronization
import VEMBus
import VEMHub
import VEMNATS
import VEMTestKit
import VEMProtocol

#if canImport(Glibc)
    import Glibc
#endif

extension BusBench {
    /// The NATS bus: a local nats-server started here (per-Client users for every simulated Client), the real
    /// ``NATSManagerBus`` in this process, `vem bench-clients --mode nats` as the load; the same measurements as
    /// the hub's.
    func measureNATS(into figures: inout BenchFigures) async throws {
        let clients = options.clients
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vem-bench-nats-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let site = "bench"
        let accounts = try NATSAccountsConfig(
            site: site, clients: ((0..<clients).map { "sim\($0)" } + ["victim"]).map { .init(name: $0) })
        let credentials = scratch.appendingPathComponent("credentials.txt")
        try accounts.credentialsText.write(to: credentials, atomically: true, encoding: .utf8)
        let server = try await NATSServerProcess.start(
            name: "bench", body: accounts.text + "\nmax_payload: 2MB\n", directory: scratch.path)
        defer { Glibc.kill(server.pid, SIGTERM) }

        let ingested = Atomic<Int>(0)
        var logger = Logger(label: "vem.bench.nats")
        logger.logLevel = .error
        let bus = try NATSManagerBus(
            configuration: NATSBusConfiguration(
                connection: NATSConnectionOptions(
                    servers: [server.url], user: NATSAccountsConfig.managerUser,
                    password: accounts.password(NATSAccountsConfig.managerUser), name: "vem-manager"),
                site: site, engine: .init(admission: Admission(sharedToken: Self.token), heartbeatInterval: Self.heartbeat),
                system: NATSConnectionOptions(
                    servers: [server.url], user: NATSAccountsConfig.systemUser,
                    password: accounts.password(NATSAccountsConfig.systemUser), name: "vem-manager-sys")),
            logger: logger,
            messageHandler: { _, message in
                if case .property = message { ingested.add(1, ordering: .relaxed) }
            })
        try await bus.start()
        let membership = MembershipWatch(bus.events)
        let rssBefore = residentKiB()
        let load = try ChildProcess(
            executable: executable,
            arguments: [
                "bench-clients", "--mode", "nats", "--connect", "127.0.0.1:\(server.ports.client)", "--clients",
                "\(clients)", "--token", Self.token, "--site", site, "--credentials", credentials.path,
            ])
        try await load.expect("ready")
        try await membership.waitForMembers(bus, count: clients)
        figures.rssPerClientKiB = Double(residentKiB() - rssBefore) / Double(clients)

        var roundTimes: [Double] = []
        let cpu = processCPUMilliseconds()
        for index in 0..<(options.rounds + 3) {
            let start = ContinuousClock.now
            let result = await bus.collectProperties([BenchFrames.propertyName], from: .all, timeout: .seconds(60))
            let elapsed = (ContinuousClock.now - start).milliseconds
            if result.replies.count != clients { figures.notes.append("round \(index): \(result.missing.count) missing") }
            if index >= 3 { roundTimes.append(elapsed) }
        }
        figures.roundCPU = (processCPUMilliseconds() - cpu) / Double(options.rounds + 3)  // the Manager process only
        figures.roundP50 = percentile(roundTimes, 0.50)
        figures.roundP99 = percentile(roundTimes, 0.99)

        let latencies = try await commandLatencies(on: bus, commands: options.commands, clients: clients)
        figures.commandP50 = percentile(latencies, 0.50)
        figures.commandP99 = percentile(latencies, 0.99)

        let senders = min(clients, 1_000)
        for burstSize in [options.burst, 1] {
            try await load.send("ingest \(burstSize) 3000 \(senders)")
            try await Task.sleep(for: .milliseconds(500))
            let (start, before) = (ContinuousClock.now, ingested.load(ordering: .relaxed))
            try await Task.sleep(for: .seconds(2))
            let (end, after) = (ContinuousClock.now, ingested.load(ordering: .relaxed))
            let rate = Double(after - before) / ((end - start).milliseconds / 1_000)
            if burstSize == options.burst { figures.ingest = rate } else { figures.ingestSingle = rate }
            try await load.expect("ingest-done")
        }
        // Let the Manager drain what the server still holds before the next phase.
        var last = -1
        while last != ingested.load(ordering: .relaxed) {
            last = ingested.load(ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(200))
        }

        let log = scratch.appendingPathComponent("victim.log")
        let victim = try ChildProcess(
            executable: executable,
            arguments: [
                "bus-client", "--nats", server.url, "--nats-user", "victim:\(accounts.password("victim"))", "--site", site,
                "--name", "victim", "--token", Self.token, "--log", log.path,
            ])
        try await membership.waitForJoin("victim")
        let killed = ContinuousClock.now
        victim.kill()
        try await membership.waitForDisconnect("victim")
        figures.killDetect = (ContinuousClock.now - killed).milliseconds
        let counts = bus.counts
        if counts.publishFailures > 0 || counts.malformed > 0 {
            figures.notes.append("nats: \(counts.publishFailures) publish failures, \(counts.malformed) malformed")
        }

        try await load.send("quit")
        await load.waitForExit()
        await bus.shutdown()
        await server.stop()
    }
}

extension BenchFigures {
    /// These (NATS) figures with the hub's of the same run as extra fields, the run's baseline, and the
    /// NATS/hub round ratio.
    func compared(with hub: BenchFigures) -> BenchFigures {
        var figures = self
        figures.baselineP50 = hub.baselineP50
        figures.baselineP99 = hub.baselineP99
        figures.baselineRoundCPU = hub.baselineRoundCPU
        let extra: [(String, String)] = [
            ("hub_round_p50_ms", fixed(hub.roundP50)), ("hub_round_p99_ms", fixed(hub.roundP99)),
            ("hub_ingest_msgs_per_s", fixed(hub.ingest, 0)), ("hub_ingest_single_msgs_per_s", fixed(hub.ingestSingle, 0)),
            ("hub_command_p50_ms", fixed(hub.commandP50)), ("hub_manager_rss_per_client_kib", fixed(hub.rssPerClientKiB)),
            ("hub_kill_detect_ms", fixed(hub.killDetect)), ("hub_cpu_ms_per_round", fixed(hub.roundCPU)),
            ("round_p50_vs_hub", fixed(hub.roundP50 > 0 ? roundP50 / hub.roundP50 : 0, 3)),
        ]
        figures.extra += extra.map { Extra(name: $0.0, value: $0.1) }
        figures.notes += hub.notes.map { "hub: \($0)" }
        return figures
    }
}
