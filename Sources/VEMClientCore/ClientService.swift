import Logging
import Synchronization
import VEMAgent
import VEMBus
import VEMConfig
import VEMProtocol
import VEMCore

/// The Client (`vem agent`): the configuration wired to a Reader, a Runner and the bus.
///
/// ``run()`` connects (the bus reconnects by itself), collects properties on their schedule and pushes the ones
/// whose `push` asks for it, answers `get_property` from the cache (reading never-collected properties on
/// demand), and executes commands in stream order through the Runner. `reload` swaps in a freshly loaded
/// configuration (a broken one is refused and the old one kept); `shutdown` and ``stop(reason:)`` end ``run()``
/// after saying `bye`.
public actor ClientService {
    /// Tuning, with production defaults.
    public struct Configuration: Sendable {
        /// The directory that stands for `/` for property plugins. Default `/`.
        public var root: String = "/"
        /// How long one property read may take before its plugin is stopped. Default 10 s.
        public var propertyTimeout: Duration = .seconds(10)
        /// The Reader's jitter: a collection is late by less than this fraction of `ticks`. Default 0.1.
        public var jitter: Double = 0.1
        /// The Runner's default timeout, output cap and memory.
        public var runner = Runner.Configuration()
        /// How long after `SIGTERM` an `exec` command's process group gets `SIGKILL`. Default 1 s.
        public var killGrace: Duration = .seconds(1)
        /// The cap on a refused `reload`'s error text, in bytes. Default 8 KiB.
        public var errorLimit = 8 * 1024
        /// Property plugins beyond the built-in ones (`slurm.*`).
        public var extraProperties: [any PropertyPlugin] = []
        /// Command plugins beyond the built-in ones.
        public var extraCommands: [any CommandPlugin] = []
        /// Parts that register their plugins and run beside the bus (VEMClient's hypervisor: its `vm.*` commands,
        /// its `hypervisor` property and its domains' lifecycle events). Default: none.
        public var extensions: [any ClientExtension] = []

        /// The defaults.
        public init() {}
    }

    /// Makes the bus for an identity, a token and the Client's handlers.
    public typealias BusFactory =
        @Sendable (ClientIdentity, String, ClientSettings, ClientHandlers) throws(ClientError) -> any ClientBus

    /// Who this Client is on the bus.
    public nonisolated let identity: ClientIdentity
    let loader: ClientConfigurationLoader
    let clock: any Timeline
    let options: Configuration
    let busFactory: BusFactory
    let token: String
    let logger: Logger
    let propertyRegistry: PluginRegistry
    let seed: UInt64
    var generation: ClientGeneration
    var nextSequence: UInt64
    var bus: (any ClientBus)?
    var readerTask: Task<Void, Never>?
    /// Properties whose last push found no connection; pushed again when the Manager admits this Client.
    var unsentPushes: Set<String> = []
    var reloads = 0
    nonisolated let shutdownSeq = Mutex<UInt64?>(nil)
    nonisolated let stopSignal: AsyncStream<String>
    nonisolated let stopContinuation: AsyncStream<String>.Continuation

    /// Creates the service from a loaded configuration.
    /// - Parameters:
    ///   - configuration: The loaded configuration.
    ///   - loader: Reads the files again on `reload`.
    ///   - identity: Who this Client is (see ``ClientIdentityResolver``).
    ///   - token: Its credential (never logged).
    ///   - clock: The Client's clock.
    ///   - options: Tuning.
    ///   - logger: For connection changes, reloads and dropped pushes.
    ///   - busFactory: Makes the bus (default: the one the settings name, ``ClientTransport/make``; an in-memory
    ///     bus in tests).
    /// - Throws: ``ClientError`` `.setup` when the Reader or Runner cannot be built.
    public init(
        configuration: ClientConfiguration, loader: ClientConfigurationLoader, identity: ClientIdentity,
        token: String, clock: any Timeline = MonotonicClock(), options: Configuration = Configuration(),
        logger: Logger = Logger(label: "vem.agent"), busFactory: BusFactory? = nil
    ) throws(ClientError) {
        self.identity = identity
        self.loader = loader
        self.clock = clock
        self.options = options
        self.busFactory = busFactory ?? HubTransport.factory(logger: logger)
        self.token = token
        self.logger = logger
        var registry = PluginRegistry.builtin(root: options.root)
        for plugin in options.extraProperties {
            do { try registry.registerProperty(plugin) } catch {
                throw ClientError(.setup, "error: cannot add property plugin '\(plugin.name)': \(error)")
            }
        }
        for part in options.extensions {
            do { try part.register(into: &registry) } catch {
                throw ClientError(.setup, "error: cannot add the \(part.name) plugins: \(error)")
            }
        }
        propertyRegistry = registry
        seed = ReaderSchedule.seed(forClient: identity.name)
        nextSequence = options.runner.firstSequence
        generation = try ClientGeneration(
            configuration: configuration, propertyRegistry: registry, extraCommands: options.extraCommands,
            clock: clock, options: options, seed: seed, firstSequence: options.runner.firstSequence)
        (stopSignal, stopContinuation) = AsyncStream.makeStream(of: String.self)
    }

    /// The configuration in effect (changes on a successful `reload`).
    public var configuration: ClientConfiguration { generation.configuration }

    /// How many `reload`s took effect.
    public var reloadCount: Int { reloads }

    /// The cached sample of a property, if it was ever read.
    public func lastSample(of name: String) async -> PropertySample? {
        await generation.readers.lastSample(of: name)
    }

    /// Asks ``run()`` to end: says `bye` and returns. Safe from any thread (signal handlers).
    /// - Parameter reason: Logged.
    public nonisolated func stop(reason: String) {
        stopContinuation.yield(reason)
    }

    /// Runs the Client until ``stop(reason:)``, a `shutdown` command, or a final rejection.
    /// - Throws: ``ClientError`` `.busUnavailable` (from the factory) or `.rejected`.
    public func run() async throws(ClientError) {
        let handlers = ClientHandlers(
            execute: { [self] command in await self.execute(command) },
            properties: nil,
            reported: { [self] result in
                if self.shutdownSeq.withLock({ $0 == result.seq }) { self.stop(reason: "shutdown command") }
            })
        let bus = try busFactory(identity, token, generation.configuration.settings, handlers)
        self.bus = bus
        startReader()
        logger.info(
            "client starting",
            metadata: [
                "name": "\(identity.name)", "role": "\(identity.role)", "incarnation": "\(identity.incarnation)",
            ])
        let failure: (any Error)? = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do { try await bus.run() } catch { return error }
                return nil
            }
            group.addTask {
                await self.consume(bus.events)
                return nil
            }
            for part in self.options.extensions {
                group.addTask {
                    await part.run(bus: bus, clock: self.clock, logger: self.logger)
                    return nil
                }
            }
            group.addTask {
                for await reason in self.stopSignal {
                    self.logger.info("client stopping", metadata: ["reason": "\(reason)"])
                    break
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            while await group.next() != nil {}
            return first
        }
        readerTask?.cancel()
        readerTask = nil
        self.bus = nil
        if let failure {
            throw ClientError(.rejected, "error: \(failure)")
        }
    }

    // MARK: Events and property requests

    private func consume(_ events: AsyncStream<ClientBusEvent>) async {
        await withTaskGroup(of: Void.self) { group in
            for await event in events {
                switch event {
                case .connected(let welcome):
                    logger.info("connected to the manager", metadata: ["resumed": "\(welcome.resumed)"])
                    await flushUnsentPushes()
                case .disconnected(let reason):
                    logger.info("lost the manager; reconnecting", metadata: ["reason": "\(reason)"])
                case .rejected(let reject):
                    logger.error("the manager refused this client", metadata: ["reason": "\(reject.reason)"])
                case .message(.getProperty(let request)):
                    group.addTask { await self.answer(request) }
                case .message(let message):
                    logger.debug("ignored a message from the manager", metadata: ["type": "\(message.type)"])
                }
            }
            group.cancelAll()
        }
    }

    /// Answers a `get_property` from the cache; properties never read yet are read now.
    func answer(_ request: GetProperty) async {
        let readers = generation.readers
        let names = request.names.isEmpty ? readers.names : request.names
        var byName: [String: PropertyReading] = [:]
        var missing: [String] = []
        for name in Set(names) {
            if !readers.isDefined(name) {
                byName[name] = PropertyReading(
                    name: name,
                    timestampMilliseconds: PropertyMapping.unixMilliseconds(clock.unixTime(at: clock.now())),
                    outcome: .error("\(AgentError.Code.notFound): no property named '\(name)' on this client"))
            } else if let sample = await readers.lastSample(of: name) {
                byName[name] = PropertyMapping.reading(sample, clock: clock)
            } else {
                missing.append(name)
            }
        }
        if !missing.isEmpty {
            for sample in await readers.refresh(missing).samples {
                byName[sample.name] = PropertyMapping.reading(sample, clock: clock)
            }
        }
        var seen = Set<String>()
        let readings = names.filter { seen.insert($0).inserted }.compactMap { byName[$0] }
        // An answer goes out even when empty: the Manager's property round waits for every Client asked.
        send(PropertyReport(requestID: request.requestID, readings: readings), what: "property answer")
    }

    @discardableResult
    private func send(_ report: PropertyReport, what: String) -> Bool {
        guard report.requestID != 0 || !report.readings.isEmpty else { return true }
        guard let bus else { return false }
        do { try bus.send(.property(report)) } catch {
            logger.debug("\(what) not sent", metadata: ["error": "\(error)"])
            return false
        }
        return true
    }

    /// Pushes the latest samples of the properties whose push found no connection (the first collection usually
    /// comes before the Manager has admitted this Client): the Manager gets them as soon as it can.
    private func flushUnsentPushes() async {
        guard !unsentPushes.isEmpty else { return }
        let names = unsentPushes.sorted()
        unsentPushes.removeAll()
        var samples: [PropertySample] = []
        for name in names {
            if let sample = await generation.readers.lastSample(of: name) { samples.append(sample) }
        }
        let report = PropertyReport(readings: samples.map { PropertyMapping.reading($0, clock: clock) })
        if !send(report, what: "property push") { unsentPushes.formUnion(names) }
    }

    // MARK: The Reader

    func startReader() {
        readerTask?.cancel()
        let readers = generation.readers
        readerTask = Task { await self.readerLoop(readers) }
    }

    private func readerLoop(_ readers: PropertyReaders) async {
        while !Task.isCancelled {
            guard let due = await readers.scheduled.nextDue else { return }
            do { try await clock.sleep(until: due) } catch { return }
            if Task.isCancelled { return }
            let updates = await readers.scheduled.collectDue()
            let pushed = updates.filter { update in
                switch readers.push[update.sample.name] ?? .never {
                case .never: false
                case .onChange: update.change.shouldPush
                case .always: true
                }
            }
            let sent = send(
                PropertyReport(readings: pushed.map { PropertyMapping.reading($0.sample, clock: clock) }),
                what: "property push")
            if !sent { unsentPushes.formUnion(pushed.map(\.sample.name)) }
        }
    }
}

extension ClientService {
    /// The Client's software version, announced in its `hello` (the Manager admits the same major version).
    public static let version = "1.0.0"
}
