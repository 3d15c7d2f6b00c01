import Foundation
import VEMHypervisorPlugins
import VEMLibvirt
import VEMSlurm
import VEMTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The stand-in guests: test-driver domains run no guest OS, so for every domain that starts on a Dom0 host the
/// test starts what the VM's image would: a network namespace (the VM's network, with its own address), and in
/// it a DomU Client (`vem agent`, role domU, named after the VM, connecting to the Manager's hub from the VM's
/// address) and the node's `slurmd -Z --conf "… Feature=<group feature>"`, both at boot, as a real image would:
/// the slurmd registers the node itself, and the Manager's `slurm.register` then adopts it. When the domain
/// stops, the guest is stopped (by PID); the namespaces are deleted when the site shuts down.
actor Guests {
    /// A VM's life as the test saw it.
    struct Life: Sendable {
        var vm: String
        var host: String
        var group: String
        var address: String?
        var startedAt: ContinuousClock.Instant
        var stoppedAt: ContinuousClock.Instant?
    }

    private final class Guest: @unchecked Sendable {
        let lock = NSLock()
        let host: String
        var net: NetworkNamespace?
        var agent: Daemon?
        var slurmd: Daemon?
        var node: DynamicNode?
        var agentFile: String?

        init(host: String) { self.host = host }
    }

    let dir: String
    let hub: String
    let cluster: SlurmTestCluster
    let networks: NetworkAllocator
    let groups: [SiteGroup]
    private var running: [String: Guest] = [:]
    private(set) var lives: [String: Life] = [:]
    private(set) var problems: [String] = []

    init(dir: String, hub: String, cluster: SlurmTestCluster, networks: NetworkAllocator, groups: [SiteGroup]) {
        self.dir = dir
        self.hub = hub
        self.cluster = cluster
        self.networks = networks
        self.groups = groups
    }

    /// Follows one host's domain lifecycle events until the stream ends: a start starts the domain's guest,
    /// a stop (or an undefine) stops it. Events of one host are handled in order.
    nonisolated func follow(_ events: AsyncStream<DomainEvent>, of host: HypervisorHost, named name: String) async {
        for await event in events {
            switch event.kind {
            case .started:
                let group = try? await host.connection().domain(named: event.domain)?.instance?.group
                await start(event.domain, host: name, group: group)
            case .stopped, .undefined, .crashed:
                await stop(event.domain)
            default:
                continue
            }
        }
    }

    private func start(_ vm: String, host: String, group: String?) async {
        guard running[vm] == nil else { return }
        guard let group, let g = groups.first(where: { $0.name == group }) else {
            problems.append("domain \(vm) on \(host) started without a known VEM group (\(group ?? "none"))")
            return
        }
        let guest = Guest(host: host)
        running[vm] = guest
        lives[vm] = Life(vm: vm, host: host, group: group, startedAt: .now)
        do {
            let net = try await networks.make()
            guest.lock.withLock { guest.net = net }
            // Stopped (its domain destroyed, or its host crashed) while its namespace was made: nothing to start
            // (the processes would outlive it).
            guard running[vm] === guest else { return }
            lives[vm]?.address = net.address
            let file = dir + "/guest-\(vm).ini"
            try write(
                file,
                """
                [client]
                name = \(vm)
                role = domU
                host = \(host)
                group = \(group)
                vm_id = \(vm)
                manager = \(hub)
                heartbeat_interval = 1s
                \(try tlsLines(dir: dir, name: vm, role: .domU, group: group))

                """)
            let agent = try Self.startAgent(vm, file: file, net: net, dir: dir)
            guest.lock.withLock {
                guest.agent = agent
                guest.agentFile = file
            }
            // The image's slurmd does not wait for the Manager: started first, `slurmd -Z` creates the node with
            // the group's feature at the guest's address, and the Manager's registration adopts it.
            let node = DynamicNode(
                name: vm, address: net.address, feature: g.feature, cpus: g.vcpus, memoryMB: g.memoryMiB)
            let slurmd = try cluster.startNode(node, in: net)
            guest.lock.withLock {
                guest.slurmd = slurmd
                guest.node = node
            }
        } catch {
            problems.append("\(vm): the stand-in guest did not start: \(error)")
        }
    }

    private static func startAgent(_ vm: String, file: String, net: NetworkNamespace, dir: String) throws -> Daemon {
        try Daemon(
            name: "guest-\(vm)", program: "/usr/bin/nsenter",
            arguments: ["--net=/run/netns/\(net.name)", vemBinary, "agent", "-c", file],
            logPath: dir + "/guest-\(vm).log")
    }

    /// The guests of a crashed host die at once: every process in their namespaces (the DomU Client, slurmd,
    /// the jobs' steps) is killed with SIGKILL, by PID (`ip netns pids`).
    func crashHost(_ host: String) async {
        let victims = running.filter { $0.value.host == host }
        for (vm, guest) in victims {
            running[vm] = nil
            lives[vm]?.stoppedAt = .now
            await Self.killAll(in: guest)
            await Self.stop(guest, networks: networks)
        }
    }

    /// Kills every process in a guest's namespace with SIGKILL, by PID (`ip netns pids`): its Clients, its
    /// slurmd and the jobs' steps, which a slurmd that stops leaves behind.
    private static func killAll(in guest: Guest) async {
        guard let net = guest.lock.withLock({ guest.net }) else { return }
        let pids = (try? await runTool("/usr/sbin/ip", ["netns", "pids", net.name])) ?? ""
        for pid in pids.split(whereSeparator: \.isWhitespace).compactMap({ Int32($0) }) {
            _ = Glibc.kill(pid, SIGKILL)
        }
    }

    /// A running guest's process, for a fault.
    enum GuestProcess: String, Sendable {
        case agent = "DomU Client"
        case slurmd
    }

    /// Kills a running guest's DomU Client or slurmd with SIGKILL; false when the VM has no running guest.
    func kill(_ process: GuestProcess, of vm: String) async -> Bool {
        guard let guest = running[vm] else { return false }
        let daemon = guest.lock.withLock { process == .agent ? guest.agent : guest.slurmd }
        await daemon?.kill9()
        return daemon != nil
    }

    /// Starts a guest's DomU Client or slurmd again (as the guest's init would), unless the guest has stopped
    /// meanwhile or the process runs (a new guest of the same name); false then.
    func restart(_ process: GuestProcess, of vm: String) throws -> Bool {
        guard let guest = running[vm] else { return false }
        let (net, file, node, current) = guest.lock.withLock {
            (guest.net, guest.agentFile, guest.node, process == .agent ? guest.agent : guest.slurmd)
        }
        guard let net, current?.isRunning != true else { return false }
        switch process {
        case .agent:
            guard let file else { return false }
            let agent = try Self.startAgent(vm, file: file, net: net, dir: dir)
            guest.lock.withLock { guest.agent = agent }
        case .slurmd:
            guard let node else { return false }
            let slurmd = try cluster.startNode(node, in: net)
            guest.lock.withLock { guest.slurmd = slurmd }
        }
        return true
    }

    private func stop(_ vm: String) async {
        guard let guest = running.removeValue(forKey: vm) else { return }
        lives[vm]?.stoppedAt = .now
        await Self.stop(guest, networks: networks)
    }

    /// Stops a guest's DomU Client and slurmd. Its namespace stays (empty) until the site shuts down: its subnet
    /// then stays taken, so no later guest gets the same address, where slurmctld would still reach a dead VM's
    /// node and find another guest's slurmd answering for it (the chaos test saw a lost VM's node "responding",
    /// and busy with a job that had died with the VM, for good).
    private static func stop(_ guest: Guest, networks: NetworkAllocator) async {
        let (agent, slurmd) = guest.lock.withLock { (guest.agent, guest.slurmd) }
        async let a: Void = agent?.stop() ?? ()
        async let s: Void = slurmd?.stop() ?? ()
        _ = await (a, s)
    }

    /// Stops every guest still running, and whatever its jobs left running in its namespace.
    func stopAll() async {
        let all = running
        running = [:]
        for guest in all.values {
            await Self.killAll(in: guest)
            await Self.stop(guest, networks: networks)
        }
    }

    /// The guests running now, by VM.
    var runningVMs: Set<String> { Set(running.keys) }

    /// Whether a VM's slurmd has been started.
    func slurmdStarted(_ vm: String) -> Bool {
        running[vm].map { g in g.lock.withLock { g.slurmd != nil } } ?? false
    }

    /// The log of a VM's DomU Client (for failure messages).
    nonisolated func agentLog(_ vm: String) -> String {
        (try? String(contentsOfFile: dir + "/guest-\(vm).log", encoding: .utf8)) ?? ""
    }
}
