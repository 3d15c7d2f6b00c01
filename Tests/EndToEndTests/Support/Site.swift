import Foundation
import Logging
import VEMBatch
import VEMClient
import VEMClientCore
import VEMHypervisorPlugins
import VEMLibvirt
import VEMManager
import VEMSlurm
import VEMTestSupport
import VEMTrust

/// The `tls_*` lines of a holder of the site CA in `dir/ca`, issuing its certificate first (mutual TLS on the hub).
func tlsLines(dir: String, name: String, role: TrustRole, group: String? = nil, hosts: [String] = []) throws -> String {
    let ca = SiteCADirectory(path: dir + "/ca")
    let issued = try ca.issue(name: name, role: role, group: group, hosts: hosts, days: 1)
    return "tls_ca = \(ca.certificatePath)\ntls_certificate = \(issued.certificate)\ntls_key = \(issued.key)"
}

/// The `vem` executable built beside the test bundle (VEMTestSupport).
let vemBinary = vemExecutable.path

/// One group of the site.
struct SiteGroup: Sendable {
    var name: String
    var share: Int
    var partition: String
    var feature: String
    var vcpus: Int
    var memoryMiB: Int
    /// The group's `max_vms` (nil: none).
    var maxVMs: Int? = nil

    var section: String { section(image: nil) }

    /// The group's section; with a real guest image, its kernel, initramfs and disk.
    func section(image: RealHosts.Image?) -> String {
        """
        [group:\(name)]
        share = \(share)
        template = domain.xml
        vm_vcpus = \(vcpus)
        vm_memory_mib = \(memoryMiB)
        partition = \(partition)
        feature = \(feature)
        \(maxVMs.map { "max_vms = \($0)" } ?? "")

        """ + (image.map { "kernel = \($0.kernel)\ninitrd = \($0.initrd)\ndisk = \($0.disk)\n\n" } ?? "")
    }
}

/// The whole site on real components: a `vem manager` process (its hub on the host side of a veth link, so the
/// guests' namespaces reach it), a batch Client (`vem agent`, role batch, the `slurm.*` plugins) on a private
/// Slurm controller, two Dom0 Clients on libvirt `test:///` hosts run in this process (a `test:///` host lives
/// in the memory of the connection that opened it, so the test must share the Dom0 Clients' connections to see
/// their domains), and a stand-in guest per running domain (``Guests``). With real guests, the hosts are real
/// libvirtds and the Manager runs in this process (``RealHosts``, ``InProcessManager``).
final class Site: @unchecked Sendable {
    struct Ports: Decodable {
        var hub: Int
        var http: Int
    }

    let dir: String
    let groups: [SiteGroup]
    let networks: NetworkAllocator
    let hubLink: NetworkNamespace
    let cluster: SlurmTestCluster
    let ports: Ports
    let batchAgent: Daemon
    let guests: Guests
    /// The real guests' hosts (nil: `test:///` hosts with stand-in guests).
    let realHosts: RealHosts?
    /// A Dom0 Client of this process: its host, its service, and the tasks running the service and following
    /// the host's domains.
    private struct Dom0 {
        var host: HypervisorHost
        var service: ClientService
        var tasks: [Task<Void, Never>] = []
    }
    private let lock = NSLock()
    private var currentManager: any SiteManager
    private var dom0s: [String: Dom0] = [:]
    private let groupSections: String
    private let hostCPUs: Int
    private let hostMemoryMiB: Int

    /// The Manager now (a new process after ``restartManager()``; in this process on a real-guest site, see
    /// ``InProcessManager``).
    var manager: any SiteManager { lock.withLock { currentManager } }
    /// The Dom0 hosts up now, by name.
    var hosts: [String: HypervisorHost] { lock.withLock { dom0s.mapValues(\.host) } }

    var managerURL: String { "http://127.0.0.1:\(ports.http)" }
    var hubAddress: String { "\(hubLink.hostAddress):\(ports.hub)" }

    private init(
        dir: String, groups: [SiteGroup], networks: NetworkAllocator, hubLink: NetworkNamespace,
        cluster: SlurmTestCluster, manager: any SiteManager, ports: Ports,
        batchAgent: Daemon, guests: Guests, groupSections: String, hostCPUs: Int, hostMemoryMiB: Int,
        realHosts: RealHosts?
    ) {
        self.realHosts = realHosts
        self.dir = dir
        self.groups = groups
        self.networks = networks
        self.hubLink = hubLink
        self.cluster = cluster
        self.currentManager = manager
        self.ports = ports
        self.batchAgent = batchAgent
        self.guests = guests
        self.groupSections = groupSections
        self.hostCPUs = hostCPUs
        self.hostMemoryMiB = hostMemoryMiB
    }

    /// Starts everything, in order: the hub's link, Slurm, the Manager, the batch Client, the Dom0 Clients and
    /// the watch on their domains. On a failure what was started is stopped again.
    ///
    /// With `realGuests`, the Dom0 hosts are real libvirtds (QEMU TCG) in the hub link's namespace, with a bridge
    /// there (``RealHosts``), the groups boot the real guest image, and no stand-in guests are started; the
    /// Manager runs in this process (``InProcessManager``) with routes to every libvirtd, and the Dom0 Clients
    /// allow `vm.migrate` to them, so a drained host's guests live-migrate.
    static func start(
        managerSettings: String, groups: [SiteGroup], hostNames: [String], hostCPUs: Int, hostMemoryMiB: Int,
        slurmdTimeout: Int = 60, credentialLifetime: Int = 120, realGuests: Bool = false
    ) async throws -> Site {
        guard FileManager.default.isExecutableFile(atPath: vemBinary) else {
            throw HarnessError("the vem executable is missing at \(vemBinary): run swift build first")
        }
        let scheme: NetworkNamespaceScheme = realGuests ? .realGuest : .endToEnd
        await scheme.sweepStale()
        var template = Array("/tmp/vem-e2e-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw HarnessError("mkdtemp failed") }
        let dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var undo: [@Sendable () async -> Void] = []
        func rollback() async { for u in undo.reversed() { await u() } }
        do {
            let networks = NetworkAllocator(scheme)
            let hubLink = try await networks.make()
            undo.append { await networks.removeAll() }
            let cluster = try await SlurmTestCluster.start(
                SlurmTestClusterSettings(
                    clusterName: "veme2e",
                    groups: groups.map { GroupMapping(group: $0.name, partition: $0.partition, feature: $0.feature) },
                    schedulerInterval: 1, slurmdParameters: realGuests ? "config_overrides" : nil,
                    slurmdTimeout: slurmdTimeout, credentialLifetime: credentialLifetime),
                networks: networks, in: dir)
            undo.append { await cluster.shutdown() }

            var realHosts: RealHosts?
            if realGuests {
                let image = try await RealHosts.image(
                    dir: dir, mungeKey: cluster.dir + "/munge/munge.key",
                    slurmConf: cluster.config(controllerAddress: hubLink.hostAddress),
                    features: Dictionary(groups.map { ($0.name, $0.feature) }, uniquingKeysWith: { a, _ in a }))
                let started = try await RealHosts.start(hostNames: hostNames, link: hubLink, image: image, dir: dir)
                undo.append { await started.stop() }
                realHosts = started
            }
            let groupSections = groups.map { $0.section(image: realHosts?.image) }.joined(separator: "\n")
            // The site CA, made with the library calls `vem ca` uses; the Manager's certificate names the hub's
            // address on the link, which the Clients dial. Real guests get theirs from the Manager at vm.create
            // (issue 17 part 2): it holds an issuing intermediate (`vem ca issuer`), and the guest image's agent
            // reads the credential from the domain's SMBIOS OEM strings.
            let ca = SiteCADirectory(path: dir + "/ca")
            try ca.initialize(days: 1)
            var managerTLS = try tlsLines(dir: dir, name: "manager", role: .manager, hosts: [hubLink.hostAddress])
            if realGuests {
                let issuer = try ca.createIssuer(name: "manager-issuer", days: 1)
                managerTLS += "\nvm_issuer_certificate = \(issuer.certificate)\nvm_issuer_key = \(issuer.key)"
            }
            try write(
                dir + "/manager.ini",
                managerSettings.replacingOccurrences(of: "{hub}", with: hubLink.hostAddress) + managerTLS + "\n\n"
                    + groupSections)
            let manager: any SiteManager
            let ports: Ports
            if let realHosts {
                // Live migrations between the real libvirtds go to their unix sockets: routes only code may give.
                let uris = hostNames.compactMap { name in realHosts.uri(name).map { (name, $0) } }
                (manager, ports) = try await InProcessManager.start(
                    config: dir + "/manager.ini", journal: dir + "/journal.sqlite",
                    routes: MigrationRoutes(
                        uris: Dictionary(uris, uniquingKeysWith: { a, _ in a }), dataURI: "tcp://127.0.0.1"))
                undo.append { await manager.stop() }
            } else {
                let process = try startManager(dir: dir)
                undo.append { await process.stop() }
                ports = try await eventually("the manager's port file", within: .seconds(30)) { () -> Ports? in
                    guard process.isRunning else { throw HarnessError("vem manager exited: \(process.logTail)") }
                    guard let data = FileManager.default.contents(atPath: dir + "/ports.json") else { return nil }
                    return try? JSONDecoder().decode(Ports.self, from: data)
                }
                manager = process
            }
            let hub = "\(hubLink.hostAddress):\(ports.hub)"

            try write(
                dir + "/batch.ini",
                """
                [client]
                name = slurmctl
                role = batch
                host = slurmctl
                manager = \(hub)
                heartbeat_interval = 1s
                \(try tlsLines(dir: dir, name: "slurmctl", role: .batch))
                allow = slurm.register, slurm.drain, slurm.resume, slurm.remove, slurm.down

                [slurm_demand]
                command = slurm.demand
                return_type = json
                ticks = 1

                \(groupSections)
                """)
            let batchAgent = try Daemon(
                name: "batch-agent", program: vemBinary, arguments: ["agent", "-c", dir + "/batch.ini"],
                environment: cluster.environment, logPath: dir + "/batch-agent.log")
            undo.append { await batchAgent.stop() }

            try write(dir + "/domain.xml", try realHosts?.domainTemplate() ?? domainTemplate)
            let guests = Guests(
                dir: dir, hub: hub, cluster: cluster, networks: networks, groups: groups)
            let site = Site(
                dir: dir, groups: groups, networks: networks, hubLink: hubLink, cluster: cluster, manager: manager,
                ports: ports, batchAgent: batchAgent, guests: guests, groupSections: groupSections,
                hostCPUs: hostCPUs, hostMemoryMiB: hostMemoryMiB, realHosts: realHosts)
            undo.append { await site.stopClients() }
            for name in hostNames { try await site.startDom0(name) }
            return site
        } catch {
            await rollback()
            throw error
        }
    }

    /// A Dom0 Client in this process, built from an agent file the way `vem agent` builds it.
    private static func dom0(
        _ name: String, dir: String, hub: String, cpus: Int, memoryMiB: Int, groupSections: String, uri: String?,
        tls: Bool, migrationDestinations: [String] = []
    ) throws -> (HypervisorHost, ClientService) {
        let migration =
            migrationDestinations.isEmpty
            ? "" : ", vm.migrate\nmigration_destinations = \(migrationDestinations.joined(separator: ", "))"

        let hostFile = dir + "/\(name).xml"
        try write(
            hostFile,
            """
            <node>
              <cpu><mhz>2400</mhz><model>x86_64</model><active>\(cpus)</active><nodes>1</nodes><sockets>1</sockets>\
            <cores>\(cpus)</cores><threads>1</threads></cpu>
              <memory>\(memoryMiB * 1024)</memory>
            </node>

            """)
        let file = dir + "/\(name).ini"
        try write(
            file,
            """
            [client]
            name = \(name)
            role = dom0
            host = \(name)
            manager = \(hub)
            heartbeat_interval = 1s
            \(tls ? try tlsLines(dir: dir, name: name, role: .dom0) : "")
            hypervisor = \(uri ?? "test://\(hostFile)")
            allow = vm.create, vm.destroy, vm.list\(migration)

            [hypervisor]
            command = hypervisor
            return_type = json
            ticks = 1

            \(groupSections)
            """)
        let logger = {
            var l = Logger(label: "e2e.\(name)")
            l.logLevel = .warning
            return l
        }()
        let loader = ClientConfigurationLoader(paths: [file])
        let loaded = try loader.load()
        guard let built = try ClientHypervisor.make(loaded.configuration) else {
            throw HarnessError("\(file) has no hypervisor")
        }
        var options = ClientService.Configuration()
        options.hypervisor = built.host
        let identity = try ClientIdentityResolver().resolve(
            loaded.configuration.settings, version: ClientService.version,
            incarnation: UInt64.random(in: 1...UInt64.max))
        let service = try ClientService(
            configuration: loaded.configuration, loader: loader, identity: identity, token: "", options: options,
            logger: logger,
            busFactory: { identity, token, settings, handlers throws(ClientError) in
                try ClientTransport.make(
                    identity: identity, token: token, settings: settings, handlers: handlers, logger: logger)
            })
        return (built.host, service)
    }

    /// The running domains of every host: name → (host, group).
    func domains() async throws -> [String: (host: String, group: String?)] {
        var all: [String: (host: String, group: String?)] = [:]
        for (name, host) in hosts {
            for d in try await host.connection().domains() where d.state == .running {
                all[d.name] = (name, d.instance?.group)
            }
        }
        return all
    }

    /// Runs `vem ARGS…` against this Manager; returns its standard output.
    func vem(_ arguments: [String]) async throws -> String {
        try await runTool(vemBinary, arguments + ["--manager-url", managerURL], timeout: .seconds(20))
    }

    /// Starts the Dom0 Client `name` on a fresh `test:///` host (no domains), watching the host's domains on the
    /// Client's own connection before the Client can create any (stand-in guests); with real guests, on its real
    /// libvirtd.
    func startDom0(_ name: String) async throws {
        let (host, service) = try Self.dom0(
            name, dir: dir, hub: hubAddress, cpus: hostCPUs, memoryMiB: hostMemoryMiB, groupSections: groupSections,
            uri: realHosts?.uri(name), tls: true, migrationDestinations: realHosts?.uris ?? [])
        var tasks: [Task<Void, Never>] = []
        if realHosts == nil {
            let events = try await host.lifecycleEvents()
            let guests = guests
            tasks.append(Task { await guests.follow(events, of: host, named: name) })
        }
        tasks.append(Task { _ = try? await service.run() })
        lock.withLock { dom0s[name] = Dom0(host: host, service: service, tasks: tasks) }
    }

    /// A host crash: the Dom0 Client `name` ends, its `test:///` host and with it every domain vanish, and the
    /// guests of those domains die at once (every process in their namespaces killed with SIGKILL). The Client
    /// in this process ends by cancellation, which still says `bye`, unlike a `kill -9`.
    func crashDom0(_ name: String) async {
        guard let dom0 = lock.withLock({ dom0s.removeValue(forKey: name) }) else { return }
        for task in dom0.tasks { task.cancel() }
        dom0.service.stop(reason: "host crash")
        await dom0.host.close()
        await guests.crashHost(name)
    }

    /// Kills the Manager with SIGKILL (by PID).
    func killManager() async {
        await manager.kill9()
    }

    /// Starts the Manager again on the same configuration, journal and ports; waits for its port file.
    func restartManager() async throws {
        await manager.kill9()
        try? FileManager.default.removeItem(atPath: dir + "/ports.json")
        let next = try Self.startManager(dir: dir)
        lock.withLock { currentManager = next }
        let expected = ports
        let got = try await eventually("the restarted manager's port file", within: .seconds(30)) { () -> Ports? in
            guard next.isRunning else { throw HarnessError("vem manager exited: \(next.logTail)") }
            guard let data = FileManager.default.contents(atPath: dir + "/ports.json") else { return nil }
            return try? JSONDecoder().decode(Ports.self, from: data)
        }
        guard got.hub == expected.hub, got.http == expected.http else {
            throw HarnessError("the restarted manager listens on \(got), not \(expected): give it fixed ports")
        }
    }

    /// Starts `vem manager` on the site's files.
    private static func startManager(dir: String) throws -> Daemon {
        try Daemon(
            name: "manager", program: vemBinary,
            arguments: [
                "manager", "-c", dir + "/manager.ini", "--journal", dir + "/journal.sqlite", "--port-file",
                dir + "/ports.json",
            ], logPath: dir + "/manager.log")
    }

    private func stopClients() async {
        let all = lock.withLock {
            defer { dom0s = [:] }
            return dom0s
        }
        for dom0 in all.values { dom0.service.stop(reason: "test over") }
        for dom0 in all.values { for task in dom0.tasks { task.cancel() } }
        for dom0 in all.values { await dom0.host.close() }
    }

    /// Stops everything by PID (the guests, the Dom0 Clients, the batch Client, the Manager, Slurm) and deletes
    /// the namespaces; the scratch directory is kept when `keepFiles` (its logs explain a failure).
    func shutdown(keepFiles: Bool) async {
        await guests.stopAll()
        await stopClients()
        await realHosts?.stop()
        await batchAgent.stop()
        await manager.stop()
        await cluster.shutdown()
        await networks.removeAll()
        if !keepFiles { try? FileManager.default.removeItem(atPath: dir) }
    }

    static let domainTemplate = """
        <domain type='test'>
          <name>{{name}}</name>
          <uuid>{{uuid}}</uuid>
          <memory unit='MiB'>{{memory_mib}}</memory>
          <vcpu>{{vcpus}}</vcpu>
          <os><type arch='x86_64'>hvm</type></os>
          <description>{{identity}}</description>
        </domain>

        """
}

/// Writes a text file.
func write(_ path: String, _ text: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}
