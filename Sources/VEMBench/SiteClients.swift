import Foundation
import NIOCore
import NIOPosix
import Synchronization
import VEMBatch
import VEMCore
import VEMHub
import VEMProtocol

/// The simulated site of `vem bench manager` (the load process's `site` mode), speaking the real protocol over
/// loopback: `hosts` Dom0 Clients reporting the `hypervisor` property and carrying out `vm.create`,
/// `vm.destroy` and `vm.list`; a DomU Client per VM, connected when its `vm.create` arrives and closed at its
/// `vm.destroy`; the batch Client `batch`, reporting `replay_demand` (a ``VEMBatch/BatchSnapshot``) and
/// carrying out `replay.register/drain/remove`; and plain Clients up to `clients` in all. The demand changes
/// in steps (``step(_:)``): one group wants `delta` more VMs; the time from the first `replay_demand` reply
/// carrying the new demand to the first `vm.create` that arrives is that step's latency.
public final class SiteClients: Sendable {
    /// What to simulate.
    public struct Configuration: Sendable {
        /// The Manager's hub.
        public var host: String
        /// Its port.
        public var port: Int
        /// The token.
        public var token: String
        /// Dom0 Clients.
        public var hosts: Int
        /// Clients in all (hosts, the batch Client, the VMs' guests and plain Clients).
        public var clients: Int
        /// The VMs the first demand asks for (spread evenly over the groups).
        public var vms: Int
        /// Groups `g0`, `g1`, ….
        public var groups: Int
        /// vCPUs of every host.
        public var cpusPerHost: Int
        /// VMs more that one step of demand asks for.
        public var delta: Int
        /// The Clients' heartbeat interval.
        public var heartbeatInterval: Duration = .seconds(5)

        /// Creates a configuration.
        public init(
            host: String, port: Int, token: String, hosts: Int, clients: Int, vms: Int, groups: Int,
            cpusPerHost: Int, delta: Int
        ) {
            (self.host, self.port, self.token) = (host, port, token)
            (self.hosts, self.clients, self.vms, self.groups) = (hosts, clients, vms, groups)
            (self.cpusPerHost, self.delta) = (cpusPerHost, delta)
        }
    }

    /// One VM on a host.
    struct Domain: Sendable {
        var group: String
        var vcpus: Int
        var memoryMiB: Int
    }

    /// A node registered with the simulated batch system.
    struct Node: Sendable {
        var group: String
        var cpus: Int
        var memoryMB: Int
        var drained: Bool
    }

    /// The site's shared state (touched from every event loop, under one lock).
    struct State: Sendable {
        var demand: [String: Int] = [:]
        var version = 0
        var reportedVersion = -1
        var changedAt: UInt64?
        var createSeen = true
        var domains: [String: [String: Domain]] = [:]
        var nodes: [String: Node] = [:]
        var guests: [String: any Channel] = [:]
        var guestsWelcomed = 0
        var creates = 0
        var destroys = 0
    }

    let configuration: Configuration
    let group: any EventLoopGroup
    let state = Mutex(State())
    private let channels = Mutex<[any Channel]>([])
    /// Where the site's lines go (`create <ms> <changed ns> <arrived ns>` at each step's first `vm.create`).
    let output: @Sendable (String) -> Void

    /// The names of the groups.
    var groupNames: [String] { (0..<configuration.groups).map { "g\($0)" } }

    /// Creates the site (not yet connected): the first demand asks for `vms` VMs.
    public init(configuration: Configuration, group: any EventLoopGroup, output: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.group = group
        self.output = output
        let names = (0..<max(1, configuration.groups)).map { "g\($0)" }
        state.withLock { s in
            for (i, name) in names.enumerated() {
                s.demand[name] = configuration.vms / names.count + (i < configuration.vms % names.count ? 1 : 0)
            }
        }
    }

    /// Connects the hosts, the batch Client and the plain Clients; returns once each was welcomed.
    public func connectAll() async throws {
        let c = configuration
        let plain = max(0, c.clients - c.hosts - 1 - c.vms)
        try await connect(.batch, name: "batch", host: "batch")
        try await inBatches(c.hosts, width: 256) { i in try await self.connect(.dom0, name: "h\(i)", host: "h\(i)") }
        try await inBatches(plain, width: 256) { i in try await self.connect(.plain, name: "c\(i)", host: "bench") }
    }

    /// Step `k` of the demand: group `g(k mod groups)` wants ``Configuration/delta`` VMs more.
    public func step(_ k: Int) {
        let names = groupNames
        state.withLock { s in
            s.demand[names[k % names.count], default: 0] += configuration.delta
            s.version += 1
            s.changedAt = nil
            s.createSeen = false
        }
    }

    /// How many VMs are on the hosts and how many guests have been welcomed.
    public var counts: (vms: Int, guests: Int) {
        state.withLock { s in (s.domains.values.reduce(0) { $0 + $1.count }, s.guests.count) }
    }

    /// The VMs the demand asks for now.
    public var wanted: Int { state.withLock { $0.demand.values.reduce(0, +) } }

    /// Closes every connection.
    public func closeAll() async {
        let guests = state.withLock { Array($0.guests.values) }
        for channel in channels.withLock({ $0 }) + guests { try? await channel.close() }
    }

    enum Kind: Sendable {
        case dom0, batch, guest, plain
    }

    func connect(_ kind: Kind, name: String, host: String, group: String? = nil) async throws {
        let ready = self.group.any().makePromise(of: Void.self)
        let hello = Hello(
            name: name, role: kind == .dom0 ? .dom0 : kind == .batch ? .batch : .domU, host: host, group: group,
            vmID: kind == .guest ? name : nil, version: "1.0.0", incarnation: UInt64.random(in: 1...UInt64.max),
            token: configuration.token)
        let channel = try await ClientBootstrap(group: ready.futureResult.eventLoop)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        SiteClientHandler(kind: kind, hello: hello, site: self, ready: ready))
                }
            }
            .connect(host: configuration.host, port: configuration.port).get()
        if kind == .guest {
            state.withLock { $0.guests[name] = channel }
        } else {
            channels.withLock { $0.append(channel) }
        }
        try await ready.futureResult.get()
    }

    // MARK: - What the Clients answer

    /// The `hypervisor` property of `host`: its size and what its VMs leave free.
    func hypervisor(_ host: String) -> WireValue {
        let (usedCPUs, usedMiB) = state.withLock { s in
            (s.domains[host]?.values.reduce(0) { $0 + $1.vcpus } ?? 0,
             s.domains[host]?.values.reduce(0) { $0 + $1.memoryMiB } ?? 0)
        }
        let cpus = configuration.cpusPerHost
        let memoryKiB = cpus * 2_048 * 1_024
        return .object([
            "cpus": .int(Int64(cpus)), "memory_kib": .int(Int64(memoryKiB)),
            "free_vcpus": .int(Int64(max(0, cpus - usedCPUs))),
            "unallocated_memory_kib": .int(Int64(max(0, memoryKiB - usedMiB * 1_024))),
        ])
    }

    /// The batch system's demand: each group's wanted CPUs run on its registered nodes, the rest is pending.
    /// Marks the first report of a new demand.
    func demand() -> WireValue {
        let now = Int(Date().timeIntervalSince1970)
        let snapshot = state.withLock { s -> BatchSnapshot in
            if s.reportedVersion != s.version {
                s.reportedVersion = s.version
                s.changedAt = NIODeadline.now().uptimeNanoseconds
            }
            var byGroup: [String: [(String, Node)]] = [:]
            for (name, node) in s.nodes { byGroup[node.group, default: []].append((name, node)) }
            return BatchSnapshot(
                time: now,
                groups: s.demand.keys.sorted().map { g in
                    var remaining = s.demand[g] ?? 0
                    let wanted = remaining
                    var nodes: [BatchNode] = []
                    for (name, node) in (byGroup[g] ?? []).sorted(by: { $0.0 < $1.0 }) {
                        let used = node.drained ? 0 : min(node.cpus, remaining)
                        remaining -= used
                        let state: NodeState =
                            node.drained ? .drained : used == 0 ? .idle : used == node.cpus ? .allocated : .mixed
                        nodes.append(
                            BatchNode(
                                name: name, group: g, cpus: node.cpus, memoryMB: node.memoryMB, allocatedCPUs: used,
                                runningJobs: used, state: state, busyUntil: used > 0 ? now + 3_600 : nil))
                    }
                    return GroupDemand(
                        group: g, pendingJobs: remaining, pendingCPUs: remaining, pendingMemoryMB: remaining * 1_024,
                        runningJobs: wanted - remaining, runningCPUs: wanted - remaining,
                        headJobCPUs: remaining > 0 ? 1 : 0, nodes: nodes)
                })
        }
        return (try? WireValue(encoding: snapshot)) ?? .null
    }

    /// Carries out a command on a Dom0 (`host`) or the batch Client; the result to send.
    func execute(_ command: Command, kind: Kind, host: String) -> CommandResult {
        func arg(_ name: String, _ index: Int) -> WireValue? {
            command.arguments.first { $0.name == name }?.value
                ?? (command.arguments.indices.contains(index) && command.arguments[index].name.isEmpty
                    ? command.arguments[index].value : nil)
        }
        func text(_ name: String, _ index: Int) -> String? {
            switch arg(name, index) {
            case .string(let s)?: s
            case .int(let i)?: String(i)
            default: nil
            }
        }
        func ok(_ output: String = "") -> CommandResult { CommandResult(seq: command.seq, status: .ok, output: output) }
        let failed = CommandResult(seq: command.seq, status: .failed, error: "bad arguments")
        switch (kind, command.name) {
        case (.dom0, "vm.create"):
            guard let vm = text("vm", 1), let g = text("group", 0) else { return failed }
            let vcpus = Int(text("vcpus", 2) ?? "") ?? 1
            let memory = Int(text("memory_mib", 3) ?? "") ?? 1_024
            let times = state.withLock { s -> (changed: UInt64, arrived: UInt64)? in
                s.domains[host, default: [:]][vm] = Domain(group: g, vcpus: vcpus, memoryMiB: memory)
                s.creates += 1
                guard !s.createSeen, let changed = s.changedAt else { return nil }
                s.createSeen = true
                return (changed, NIODeadline.now().uptimeNanoseconds)
            }
            // The latency, then both instants (monotonic clock, ns: the Manager's bench compares them with the
            // tick of the trigger that planned the create).
            if let (changed, arrived) = times { output("create \(Double(arrived - changed) / 1e6) \(changed) \(arrived)") }
            Task { try? await self.connect(.guest, name: vm, host: host, group: g) }
            return ok()
        case (.dom0, "vm.destroy"):
            guard let vm = text("vm", 0) else { return failed }
            let guest = state.withLock { s -> (any Channel)? in
                s.domains[host]?[vm] = nil
                s.destroys += 1
                return s.guests.removeValue(forKey: vm)
            }
            guest?.close(promise: nil)
            return ok()
        case (.dom0, "vm.list"):
            let domains = state.withLock { $0.domains[host] ?? [:] }
            let list: [WireValue] = domains.sorted { $0.key < $1.key }.map { vm, d in
                .object([
                    "vm": .string(vm), "group": .string(d.group), "vcpus": .int(Int64(d.vcpus)),
                    "memory_kib": .int(Int64(d.memoryMiB * 1_024)), "state": .string("running"),
                ])
            }
            return ok(WireValue.array(list).jsonText)
        case (.batch, "replay.register"):
            guard let node = text("", 0), let g = text("", 1) else { return failed }
            let cpus = Int(text("", 2) ?? "") ?? 1
            let memory = Int(text("", 3) ?? "") ?? 1_024
            state.withLock { $0.nodes[node] = Node(group: g, cpus: cpus, memoryMB: memory, drained: false) }
            return ok()
        case (.batch, "replay.drain"):
            guard let node = text("", 0) else { return failed }
            state.withLock { $0.nodes[node]?.drained = true }
            return ok()
        case (.batch, "replay.remove"):
            guard let node = text("", 0) else { return failed }
            _ = state.withLock { $0.nodes.removeValue(forKey: node) }
            return ok()
        default:
            // Anything else (the bench's own commands to plain Clients) succeeds at once.
            return ok()
        }
    }

    func welcomed(_ kind: Kind) {
        if kind == .guest { state.withLock { $0.guestsWelcomed += 1 } }
    }
}

/// One Client of the simulated site, on its event loop.
final class SiteClientHandler: ChannelInboundHandler, FrameWritingHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let kind: SiteClients.Kind
    let hello: Hello
    let site: SiteClients
    let ready: EventLoopPromise<Void>
    var context: ChannelHandlerContext?
    var output = FrameOutput()
    private var frames = InboundFrames(maximumFrameSize: WireFormat.defaultMaximumFrameSize)
    private var timer: RepeatedTask?
    private var executed: UInt64 = 0

    init(kind: SiteClients.Kind, hello: Hello, site: SiteClients, ready: EventLoopPromise<Void>) {
        (self.kind, self.hello, self.site, self.ready) = (kind, hello, site, ready)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        send(.hello(hello))
        flush()
        let period = TimeAmount.nanoseconds(site.configuration.heartbeatInterval.nanoseconds / 2)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            bound.value.heartbeatIfIdle()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var messages: [Message] = []
        do throws(ProtocolError) {
            try frames.feed(Self.unwrapInboundIn(data), into: &messages)
        } catch {
            context.close(promise: nil)
            return
        }
        for message in messages { handle(message, context: context) }
    }

    private func handle(_ message: Message, context: ChannelHandlerContext) {
        switch message {
        case .welcome:
            site.welcomed(kind)
            settle(nil)
        case .reject(let reject):
            settle(SimulatedClientHandler.RejectedError(reason: reject.reason))
        case .getProperty(let request):
            let now = UInt64(Date().timeIntervalSince1970 * 1_000)
            switch kind {
            case .dom0:
                send(.property(PropertyReport(requestID: request.requestID, readings: [
                    PropertyReading(name: "hypervisor", timestampMilliseconds: now, value: site.hypervisor(hello.name))
                ])))
            case .batch:
                send(.property(PropertyReport(requestID: request.requestID, readings: [
                    PropertyReading(name: "replay_demand", timestampMilliseconds: now, value: site.demand())
                ])))
            case .guest, .plain:
                write(ReplyCache.forCurrentThread.frame(for: request.requestID))
            }
        case .command(let command):
            send(.commandAck(CommandAck(through: command.seq)))
            // At most once: a resent command already carried out is acknowledged again, not repeated.
            guard command.seq > executed else { return }
            executed = command.seq
            send(.commandResult(site.execute(command, kind: kind, host: hello.host)))
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) { flush() }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        settle(SimulatedClientHandler.ClosedError())
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
