import Foundation
import Logging
import VEMAgent
import VEMBatch
import VEMBus
import VEMClient
import VEMClientCore
import VEMConfig
import VEMCore
import VEMHub
import VEMManager
import VEMPolicy
import VEMPool
import VEMProtocol
import VEMReplayAgent
import VEMTrust

/// A whole site in one process, over real loopback TCP: the embedded hub, a Dom0 Client per host (the `vm.*`
/// command plugins and the `hypervisor` property, on libvirt `test:///` hosts or stand-ins), the batch Client
/// (the replay batch's `replay.*` commands and its `replay.demand` property), a DomU Client per VM started when
/// the VM starts (after a boot delay), and the real Manager (``VEMManager/Manager``: Listener, Sender,
/// TriggerWatch, an in-memory journal) running the site configuration of ``DemoSite`` on an injected clock.
public struct InProcessSite: Sendable {
    /// Which hypervisor the Dom0 Clients drive.
    public enum Hypervisor: Sendable {
        /// ``StandInHosts``: room accounting in memory.
        case standIn
        /// libvirt's `test:///` driver, one host description file per host written into the directory.
        case libvirtTest(directory: URL)
    }

    /// How the site is built.
    public struct Configuration: Sendable {
        /// Which hypervisor the Dom0 Clients drive (default ``Hypervisor/standIn``).
        public var hypervisor: Hypervisor = .standIn
        /// The hosts' names.
        public var hosts: [String]
        /// vCPUs per host.
        public var cpusPerHost: Int
        /// MiB per host.
        public var memoryPerHostMiB: Int
        /// The groups.
        public var groups: [PoolGroup]
        /// The planner's knobs (the Manager's `[manager]` settings).
        public var policy: PolicyConfiguration
        /// Seconds of the site's clock between two property rounds (`poll_interval`).
        public var pollInterval = 30
        /// Seconds of the site's clock between two periodic rebalances (`rebalance_interval`).
        public var rebalanceInterval = 60
        /// Seconds of the site's clock between two collections of the Dom0 and batch Clients' properties
        /// (`hypervisor`, `replay_demand`: their `ticks`; the Manager's `vem.poll` reads the cached values).
        public var propertyTicks = 30
        /// Wall time from a VM's start to its guest's Client starting.
        public var bootDelay: Duration
        /// The Clients' heartbeat interval.
        public var heartbeat: Duration
        /// The Manager's time-outs and host lists, in the site's seconds (default: off; see ``demoHealing``).
        public var healing: Manager.Healing = demoHealing

        /// Creates a configuration.
        public init(
            hosts: [String], cpusPerHost: Int, memoryPerHostMiB: Int, groups: [PoolGroup],
            policy: PolicyConfiguration, bootDelay: Duration, heartbeat: Duration = .seconds(2)
        ) {
            self.hosts = hosts
            self.cpusPerHost = cpusPerHost
            self.memoryPerHostMiB = memoryPerHostMiB
            self.groups = groups
            self.policy = policy
            self.bootDelay = bootDelay
            self.heartbeat = heartbeat
        }
    }

    /// The name of the batch Client.
    public static let batchClient = "batch"

    /// The Manager.
    public let manager: Manager
    /// The site configuration the Manager runs (``DemoSite/ini``).
    public let configurationText: String
    /// The replay batch behind the batch Client.
    public let replay: LiveReplay
    /// The stand-in hypervisors (unused with libvirt).
    public let hosts: StandInHosts
    /// The libvirt `test:///` hosts, when the site runs on them.
    public let libvirt: LibvirtTestHosts?
    /// The Manager's bus (the hub).
    public let hub: any ManagerBus
    /// The hub's port on 127.0.0.1.
    public let port: Int
}

enum GuestEvent: Sendable {
    case start(vm: String, group: String, host: String)
    case stop(vm: String)
}

/// Runs `body` with an in-process site, then stops every Client, the Manager and the hub.
/// - Parameters:
///   - configuration: The hosts, groups and policy.
///   - batch: The replay batch (at its origin).
///   - clock: The site's clock in trace seconds: the Manager's (trigger ticks, idle times, lifetimes) and the
///     replay batch's (a ``CompressedClock`` in the demo, a ``VEMManager/ManualClock`` in tests).
///   - body: What to do while the site runs (advance the clock, show the state).
/// - Throws: `InProcessSiteError` when the site cannot start; whatever `body` throws.
public func withInProcessSite<T: Sendable>(
    _ configuration: InProcessSite.Configuration, batch: ReplayBatch, clock: any ManagerClock,
    body: @Sendable (InProcessSite) async throws -> T
) async throws -> T {
    let logger = {
        var l = Logger(label: "vem.demo")
        l.logLevel = .critical
        return l
    }()
    let token = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
    // Mutual TLS on: a site CA for this run in a scratch directory, a certificate for the Manager and one for
    // every Client (issued as it is made), so each Client's identity is its certificate's.
    let ca = SiteCADirectory(
        path: FileManager.default.temporaryDirectory.appendingPathComponent("vem-demo-ca-\(UUID().uuidString)").path)
    defer { try? FileManager.default.removeItem(atPath: ca.path) }
    let serverTLS: HubServerTLS
    do {
        try ca.initialize(days: 2)
        _ = try ca.issue(name: "manager", role: .manager, hosts: ["127.0.0.1"], days: 2)
        serverTLS = HubServerTLS(
            context: try TLSContexts.server(
                TLSFiles(ca: ca.certificatePath, certificate: ca.file("manager.pem"), key: ca.file("manager.key"))))
    } catch {
        throw InProcessSiteError(message: "cannot set up the demo's site CA: \(error)")
    }
    var options = ManagerService.Options()
    (options.token, options.clock) = (token, clock)
    options.transport = { engine throws(ManagerError) in
        ManagerBusEndpoint.hub(
            HubConfiguration(
                host: "127.0.0.1", port: 0, engine: engine,
                // Every Client of the demo (hosts, batch, one per guest) connects from loopback.
                maximumConnectionsPerAddress: 4_096, tls: serverTLS), logger: logger)
    }
    options.logger = {
        var l = Logger(label: "vem.manager")
        l.logLevel = .critical
        return l
    }()
    let replay = LiveReplay(batch: batch, simulatedNow: { Int(clock.now()) })
    let (guestEvents, guests) = AsyncStream<GuestEvent>.makeStream()
    let hosts = StandInHosts(
        names: configuration.hosts, cpus: configuration.cpusPerHost, memoryMiB: configuration.memoryPerHostMiB,
        guests: .init(
            start: { vm, group, host in guests.yield(.start(vm: vm, group: group, host: host)) },
            stop: { vm in guests.yield(.stop(vm: vm)) }))
    let guestHooks = StandInHosts.Guests(
        start: { vm, group, host in guests.yield(.start(vm: vm, group: group, host: host)) },
        stop: { vm in guests.yield(.stop(vm: vm)) })
    var libvirt: LibvirtTestHosts?
    if case .libvirtTest(let directory) = configuration.hypervisor {
        libvirt = try LibvirtTestHosts(
            names: configuration.hosts, cpus: configuration.cpusPerHost, memoryMiB: configuration.memoryPerHostMiB,
            groups: configuration.groups, directory: directory, guests: guestHooks)
    }
    let demoSite = DemoSite(
        groups: configuration.groups, policy: configuration.policy, pollInterval: configuration.pollInterval,
        rebalanceInterval: configuration.rebalanceInterval,
        migrationURI: libvirt?.uriTemplate ?? StandInHosts.uri(of: "{host}"))
    var loaded = try demoSite.load()
    loaded.configuration.manager?.heartbeatInterval = configuration.heartbeat
    options.healing = configuration.healing
    let service = try await ManagerService.start(site: loaded, options: options)
    let (manager, hub, port) = (service.manager, service.endpoint.bus, service.hubPort)
    let site = InProcessSite(
        manager: manager, configurationText: demoSite.ini, replay: replay, hosts: hosts, libvirt: libvirt, hub: hub,
        port: port)

    @Sendable func client(
        _ name: String, role: ClientRole, host: String, group: String? = nil, vmID: String? = nil,
        commands: [any CommandPlugin] = [], properties: [(definition: String, plugin: any PropertyPlugin)] = []
    ) throws -> ClientService {
        var settings = ClientSettings()
        settings.name = name
        settings.role = role
        settings.host = host
        settings.group = group
        settings.vmID = vmID
        settings.manager = HostPort(host: "127.0.0.1", port: port)
        settings.token = token
        let issued = try ca.issue(name: name, role: TrustRole(role), group: group, days: 2)
        settings.tls = TLSSettings(ca: ca.certificatePath, certificate: issued.certificate, key: issued.key)
        settings.heartbeatInterval = configuration.heartbeat
        settings.allow = commands.map(\.name)
        var options = ClientService.Configuration()
        options.extraCommands = commands
        options.extraProperties = properties.map(\.plugin)
        // Collected every `propertyTicks` of the site's clock; the Manager's `vem.poll` round reads the cache.
        let definitions = properties.map {
            VEMConfig.PropertyDefinition(
                name: $0.definition, command: $0.plugin.name, returnType: .json, ticks: configuration.propertyTicks,
                location: SourceLocation(file: "vem-demo-agent.ini", line: 1, column: 1))
        }
        let identity = ClientIdentity(
            name: name, role: role, host: host, group: group, vmID: vmID, version: ClientService.version,
            incarnation: UInt64.random(in: 1...UInt64.max))
        return try ClientService(
            configuration: ClientConfiguration(settings: settings, properties: definitions), loader: ClientConfigurationLoader(paths: []),
            identity: identity, token: token,
            clock: properties.isEmpty ? MonotonicClock() : clock, options: options,
            logger: logger)
    }

    var infrastructure: [ClientService] = []
    for h in configuration.hosts {
        let plugins = libvirt?.plugins(for: h) ?? hosts.plugins(for: h)
        let property = libvirt?.property(for: h) ?? hosts.property(for: h)
        infrastructure.append(
            try client(h, role: .dom0, host: h, commands: plugins, properties: [("hypervisor", property)]))
    }
    // The property is named like its plugin with `_` for `.`: property names are identifiers.
    infrastructure.append(
        try client(
            InProcessSite.batchClient, role: .batch, host: "batch", commands: ReplayPlugins.commands(replay),
            properties: [("replay_demand", ReplayPlugins.demand(replay))]))
    let infra = infrastructure
    let bootDelay = configuration.bootDelay

    return try await withThrowingTaskGroup(of: Void.self) { group in
        for service in manager.services { group.addTask { try? await service.run() } }
        for c in infra { group.addTask { try? await c.run() } }
        group.addTask {
            // The guests: a DomU Client per running VM, started after the boot delay, stopped on destroy.
            var running: [String: ClientService] = [:]
            await withTaskGroup(of: Void.self) { guestsGroup in
                for await event in guestEvents {
                    switch event {
                    case .start(let vm, let g, let host):
                        guard let service = try? client(vm, role: .domU, host: host, group: g, vmID: vm) else {
                            continue
                        }
                        running[vm] = service
                        guestsGroup.addTask {
                            try? await Task.sleep(for: bootDelay)
                            try? await service.run()
                        }
                    case .stop(let vm):
                        running.removeValue(forKey: vm)?.stop(reason: "vm destroyed")
                    }
                }
                for service in running.values { service.stop(reason: "demo over") }
            }
        }
        // Wait (bounded) for the infrastructure Clients to join before handing over.
        let deadline = ContinuousClock.now + .seconds(20)
        while hub.members().count < infra.count {
            guard ContinuousClock.now < deadline else {
                group.cancelAll()
                throw InProcessSiteError(
                    message: "only \(hub.members().count) of \(infra.count) Clients joined the hub within 20 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let result: T
        do {
            result = try await body(site)
        } catch {
            guests.finish()
            for c in infra { c.stop(reason: "demo over") }
            await service.endpoint.shutdown()
            await libvirt?.close()
            group.cancelAll()
            throw error
        }
        guests.finish()
        for c in infra { c.stop(reason: "demo over") }
        await service.endpoint.shutdown()
        await libvirt?.close()
        group.cancelAll()
        return result
    }
}

/// The in-process site could not start.
public struct InProcessSiteError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The message.
    public var description: String { message }

    /// An error that says `message`.
    public init(message: String) { self.message = message }
}

/// The demo's healing, in trace seconds (``InProcessSite/Configuration/healing``'s default): off. Its Manager
/// falls behind the compressed clock for hours of trace time in the fast-forward and its hosts never fail, so the
/// time-outs are a week and the pool's timer (time-outs, host lists) runs once a day.
public let demoHealing = Manager.Healing(
    reconciler: Reconciler.Configuration(
        operationTimeout: 7 * 86_400, migrationTimeout: 7 * 86_400, bootTimeout: 7 * 86_400,
        strayNodeGrace: 7 * 86_400),
    timerInterval: 86_400, listInterval: 86_400)
