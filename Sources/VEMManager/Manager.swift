import Logging
import ServiceLifecycle
import Synchronization
import VEMBus
import VEMConfig
import VEMPolicy
import VEMPool
import VEMSite

/// The Manager: state, journal, and its services — the Listener, the Sender, TriggerWatch (and the journal's pruner) — over one
/// bus. Run ``services`` in a `ServiceGroup` (with the bus and the operator's HTTP endpoint beside them).
///
/// ```swift
/// let manager = Manager(site: site, bus: hub, journal: try Journal(path: "journal.sqlite"), restore: hub.engine.restore)
/// _ = try await manager.recover()          // before the bus accepts connections
/// try await ServiceGroup(services: manager.services + [hub], …).run()
/// ```
public final class Manager: Sendable {
    /// A function that seeds a Client's command stream in the bus (``VEMBus/ManagerEngine/restore(_:)``).
    public typealias Restore = @Sendable (RecoveredStream) throws(BusError) -> [PendingCommand]
    /// The highest sequence number a Client acknowledged (``VEMBus/ManagerEngine/acknowledgedThrough(_:)``).
    public typealias Acknowledgements = @Sendable (String) -> UInt64?

    /// How the Manager heals its view of the pool (README, "When something fails"): the reconciler's time-outs,
    /// retries and back-off, and how often the pool's timer runs and lists each host's domains.
    public struct Healing: Sendable, Hashable {
        /// The reconciler's knobs (time-outs, attempts, back-off, the stray node grace).
        public var reconciler: Reconciler.Configuration
        /// Seconds of Manager time between two ticks of the pool's timer (default 10).
        public var timerInterval: Double
        /// Seconds of Manager time between two `vm.list` of one host, besides the one after each of its joins
        /// (default 60).
        public var listInterval: Double
        /// Seconds of Manager time a host holding VMs may have no connected Dom0 Client before its VMs whose
        /// guests are not connected either count as lost: their batch nodes are marked down or removed
        /// (default 120).
        public var hostLostGrace: Double

        /// A site's healing: `[manager] operation_timeout`, `boot_timeout`, `host_list_interval` and
        /// `stray_node_grace`.
        public init(_ settings: ManagerSettings) {
            self.init(
                reconciler: Reconciler.Configuration(
                    operationTimeout: settings.operationTimeout, migrationTimeout: 6 * settings.operationTimeout,
                    bootTimeout: settings.bootTimeout, strayNodeGrace: settings.strayNodeGrace),
                listInterval: Double(settings.hostListInterval))
        }

        /// The documented defaults.
        public init(
            reconciler: Reconciler.Configuration = Reconciler.Configuration(), timerInterval: Double = 10,
            listInterval: Double = 60, hostLostGrace: Double = 120
        ) {
            self.hostLostGrace = max(0, hostLostGrace)
            self.reconciler = reconciler
            self.timerInterval = max(0.001, timerInterval)
            self.listInterval = max(0, listInterval)
        }
    }

    /// What ``recover()`` took back from the journal.
    public struct RecoverySummary: Hashable, Sendable, Codable {
        /// Clients whose command stream was seeded.
        public var clients = 0
        /// Commands without an outcome, to be resent to (or reported unknown by) their Client.
        public var resumed = 0
        /// Commands marked unknown at once (their stream could not be resumed).
        public var markedUnknown = 0
        /// VMs of the journal's inventory taken back into the pool's reconciler.
        public var vms = 0
    }

    /// The site (configuration and compiled triggers) now: the one it started with, or the last `vem reload`.
    public var site: Site { siteBox.withLock { $0 } }
    private let siteBox: Mutex<Site>
    /// The files the site was read from (what `vem reload` reads again; empty: it cannot reload).
    public let configPaths: [String]
    /// The bus.
    public let bus: any ManagerBus
    /// The journal.
    public let journal: Journal
    /// The state.
    public let state: ManagerState
    /// The clock.
    public let clock: any ManagerClock
    /// The pool (`policy.rebalance()`): reconciler, planner, last explanation.
    public let pool: PoolController
    /// The Listener service.
    public let listener: Listener
    /// The Sender service.
    public let sender: Sender
    /// The TriggerWatch service.
    public let triggerWatch: TriggerWatch
    /// Keeps the journal to its retention.
    public let pruner: JournalPruner
    /// Moves the pool's time on between rebalances (time-outs, retries).
    public let poolTimer: PoolTimer
    /// A description of the bus for `vem status` (`hub 127.0.0.1:7400`), read when asked.
    public let busDescription: @Sendable () -> String
    /// When this Manager was created.
    public let startedAt: Double
    /// The live revocation list and the issuer of VM credentials.
    public let trust: ManagerTrust
    /// Its Prometheus metrics (`GET /metrics`), in a registry of its own.
    public let metrics: ManagerMetrics
    let restore: Restore?
    let acknowledgements: Acknowledgements?
    let logger: Logger

    /// Creates a Manager.
    /// - Parameters:
    ///   - site: The loaded site.
    ///   - bus: The bus to the Clients.
    ///   - journal: The journal (in memory or on disk).
    ///   - clock: Time (a ``ManualClock`` in tests).
    ///   - busDescription: For `vem status`.
    ///   - restore: Seeds command streams from the journal (nil: the journal's open commands are marked
    ///     unknown by ``recover()``).
    ///   - acknowledgements: Where the journal learns which commands reached their Client's Runner (nil: the
    ///     `acknowledged` state is not used).
    ///   - healing: Time-outs, retries and how often hosts are listed (nil: the site's `[manager]` settings).
    ///   - configPaths: The files `site` was read from, for `vem reload`.
    ///   - routes: Live migration URIs the embedding program gives (tests); none by default.
    ///   - trust: The live revocation list and the issuer of VM credentials (default: none).
    ///   - logger: Structured logs (trigger, client and command in metadata; never payloads or credentials).
    public init(
        site: Site, bus: any ManagerBus, journal: Journal, clock: any ManagerClock = SystemClock(),
        busDescription: @escaping @Sendable () -> String = { "bus" }, restore: Restore? = nil, acknowledgements: Acknowledgements? = nil,
        healing: Healing? = nil, configPaths: [String] = [], routes: MigrationRoutes = MigrationRoutes(),
        trust: ManagerTrust = ManagerTrust(), logger: Logger = Logger(label: "vem.manager")
    ) {
        self.trust = trust
        siteBox = Mutex(site)
        self.configPaths = configPaths
        self.bus = bus
        self.journal = journal
        self.clock = clock
        self.busDescription = busDescription
        self.restore = restore
        self.acknowledgements = acknowledgements
        self.logger = logger
        startedAt = clock.now()
        let metrics = ManagerMetrics()
        self.metrics = metrics
        journal.observe(
            JournalObserver(
                wrote: { metrics.journalWritten($0, duration: $1) }, decided: { metrics.decisionRecorded(action: $0) }))
        let state = ManagerState()
        self.state = state
        let settings = site.configuration.manager ?? ManagerSettings()
        let healing = healing ?? Healing(settings)
        let pool = PoolController(
            groups: site.configuration.groups, policy: PolicyConfiguration(settings),
            migrationURI: settings.migrationURI, properties: site.configuration.properties,
            reconciler: healing.reconciler, listInterval: healing.listInterval, hostLostGrace: healing.hostLostGrace,
            routes: routes)
        self.pool = pool
        let sender = Sender(
            bus: bus, journal: journal, state: state, clock: clock, logger: logger, pool: pool, metrics: metrics,
            trust: trust)
        self.sender = sender
        let watch = TriggerWatch(
            triggers: site.triggers, groups: site.configuration.groups, state: state, sender: sender, clock: clock,
            logger: logger, demandProperties: pool.demandProperties,
            declaredProperties: site.configuration.properties.map(\.name), poolVMs: { pool.currentVMs() },
            metrics: metrics)
        triggerWatch = watch
        poolTimer = PoolTimer(pool: pool, sender: sender, state: state, clock: clock, interval: healing.timerInterval)
        pruner = JournalPruner(
            journal: journal, clock: clock, retention: Double(settings.journalRetention), logger: logger)
        listener = Listener(
            bus: bus, journal: journal, state: state, clock: clock, logger: logger,
            propertiesUpdated: { count in watch.propertiesUpdated(count: count) },
            domUJoined: { identity in
                guard let vm = identity.vmID else { return }
                if let refusal = await pool.guestRefusal(vm: vm, group: identity.group, address: identity.address) {
                    logger.warning("guest not believed", metadata: ["client": "\(identity.name)", "reason": "\(refusal)"])
                    return
                }
                sender.enqueuePool(await pool.clientJoined(vm: vm, address: identity.address, now: clock.now()))
            }, activity: sender.activity)
    }

    /// Makes `site` the Manager's site (`vem reload`, once its parts are swapped in).
    func replaceSite(_ site: Site) { siteBox.withLock { $0 = site } }
    /// What the Manager still has to do about what already happened (the demo's clock waits for it).
    public var activity: ManagerActivity { sender.activity }

    /// The Manager's services: Listener, Sender, TriggerWatch, the pool's timer and the journal's pruner.
    public var services: [any Service] { [listener, sender, triggerWatch, poolTimer, pruner] }

    /// Moves journaled commands the Clients have acknowledged from `queued`/`sent` to `acknowledged` (called
    /// before the operator's view of commands is read).
    public func refreshAcknowledgements() async throws(ManagerError) {
        guard let acknowledgements else { return }
        let now = clock.now()
        for client in state.snapshot(at: now).clients.keys.sorted() {
            if let through = acknowledgements(client), through > 0 {
                try await journal.acknowledge(client: client, through: through, at: now)
            }
        }
    }

    /// Takes back the journal after a restart: seeds every known Client's command stream (its last incarnation,
    /// the numbers used, the commands without an outcome) so that a reconnecting Client resumes where it was;
    /// takes back the VM inventory, reserves every VM name the decision log mentions (a new VM never takes
    /// the name of one destroyed before the restart), and restores what the operator held (a paused planner,
    /// drained hosts). Call once, before the bus accepts connections.
    /// - Throws: ``ManagerError/Code/journal``.
    public func recover() async throws(ManagerError) -> RecoverySummary {
        let plan = try await journal.recoveryPlan()
        var summary = RecoverySummary()
        let now = clock.now()
        let (adopted, skipped) = await pool.adopt(try await journal.inventory())
        summary.vms = adopted
        await pool.reserveNames(try await journal.decidedVMs())
        // What `vem pause` and `vem host drain` held before the restart holds still.
        let holds = try await journal.operatorHolds()
        if !holds.isEmpty {
            await pool.restore(holds)
            logger.notice(
                "operator holds restored",
                metadata: ["paused": "\(holds.paused)", "drained_hosts": "\(holds.drainedHosts.sorted())"])
        }
        for reason in skipped { logger.warning("VM not taken back from the inventory", metadata: ["reason": "\(reason)"]) }
        var abandoned = plan.abandoned
        for var stream in plan.streams {
            guard let restore else {
                abandoned += stream.commands.map { (stream.identity.name, $0.seq) }
                continue
            }
            // The journal keeps no VM credential: an open `vm.create` goes out again with a fresh one (and an open
            // `vm.destroy` revokes the VM's), as the Sender's hand-off does.
            let open = plan.open[stream.identity.name] ?? []
            for i in stream.commands.indices where open.contains(stream.commands[i].seq) {
                let command = stream.commands[i]
                stream.commands[i].arguments = trust.wireArguments(command: command.name, arguments: command.arguments)
            }
            do {
                let pendings = try restore(stream)
                sender.adopt(stream, pendings: pendings)
                summary.clients += 1
                summary.resumed += stream.commands.count
                logger.info(
                    "command stream recovered",
                    metadata: [
                        "client": "\(stream.identity.name)", "incarnation": "\(stream.identity.incarnation)",
                        "after": "\(stream.startingAfter)", "commands": "\(stream.commands.count)",
                    ])
            } catch {
                logger.error("command stream not recovered", metadata: ["client": "\(stream.identity.name)", "error": "\(error)"])
                abandoned += stream.commands.map { (stream.identity.name, $0.seq) }
            }
        }
        for (client, seq) in abandoned {
            if try await journal.update(
                client: client, seq: seq, to: .unknown, result: "its command stream could not be resumed", at: now)
            {
                summary.markedUnknown += 1
            }
        }
        return summary
    }
}
