import Foundation
import VEMPool

extension PoolController {
    /// A host to ask for its domains, with the reconciler's mark for that list.
    struct HostList: Sendable, Hashable {
        var host: String
        var mark: Int
    }

    /// When a host was last listed, and on which connection.
    struct ListedHost: Sendable, Hashable {
        var connectedSince: Double
        var at: Double
    }

    /// What the journal names as the cause of the reconciliation with the hosts (`vm.list` and what follows).
    static let reconcileTrigger = "vem.reconcile"

    /// The fewest hosts one call of ``hostsToList(_:now:tickInterval:)`` lists when more are due: a small site's
    /// hosts are all listed at once.
    static let minimumListBatch = 64

    /// The Dom0 Clients to ask for their domains now: each connected one that reports its `hypervisor` property,
    /// once after each of its joins and then every ``listInterval``.
    ///
    /// `tickInterval` is how often the pool's timer calls this. A call lists at most the share of the hosts that
    /// keeps every host listed once per ``listInterval`` (and at least ``minimumListBatch``), those due longest
    /// first: 1,000 hosts that joined together are listed over the interval, not in one burst of 1,000 `vm.list`
    /// commands and results that a rebalance would queue behind. The others stay due for the next call.
    func hostsToList(_ snapshot: StateSnapshot, now: Double, tickInterval: Double = 0) -> [HostList] {
        guard var reconciler else { return [] }
        // The due hosts are found in the snapshot's order, then sorted (not the whole snapshot).
        var due: [(since: Double, name: String, connectedSince: Double)] = []
        var hosts = 0
        for (name, entry) in snapshot.clients
        where entry.connected && entry.identity.role == .dom0 && entry.properties["hypervisor"]?.value != nil {
            hosts += 1
            if let last = listed[name], last.connectedSince == entry.connectedSince {
                if now - last.at < listInterval { continue }
                due.append((last.at + listInterval, name, entry.connectedSince))
            } else {
                due.append((entry.connectedSince, name, entry.connectedSince))
            }
        }
        guard !due.isEmpty else { return [] }
        due.sort { ($0.since, $0.name) < ($1.since, $1.name) }
        if tickInterval > 0, listInterval > tickInterval {
            let share = Int((Double(hosts) * tickInterval / listInterval).rounded(.up))
            due = Array(due.prefix(max(Self.minimumListBatch, share)))
        }
        for host in due { listed[host.name] = ListedHost(connectedSince: host.connectedSince, at: now) }
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        let lists = due.map(\.name).sorted().map { HostList(host: $0, mark: reconciler.listMark()) }
        self.reconciler = reconciler
        return lists
    }

    /// A host's `vm.list` output, reconciled with the inventory
    /// (``VEMPool/Reconciler/onHostListed(_:domains:mark:now:)``); an adopted VM whose DomU Client is connected
    /// already has its node registered at once. Output that is not a list of domains changes nothing.
    func hostListed(_ list: HostList, output: String, snapshot: StateSnapshot, now: Double) -> Outcome {
        guard var reconciler, let domains = Self.domains(in: output) else { return Outcome() }
        self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
        let t = Int(now)
        var next = reconciler.onHostListed(list.host, domains: domains, mark: list.mark, now: t)
        // The guests found in the snapshot's order, then taken in their Clients' order (not the whole snapshot
        // sorted); looked for only while a VM of this host waits for its guest (every host sends a list every
        // `host_list_interval`, and the snapshot holds every Client: a VM of another host is looked for at that
        // host's list).
        var joined: [(client: String, vm: String)] = []
        let host = list.host
        if reconciler.vms.values.contains(where: { !$0.clientJoined && ($0.host == host || $0.migratingTo == host) }) {
            for entry in snapshot.clients.values where entry.connected && entry.identity.role == .domU {
                guard let vm = entry.identity.vmID, reconciler.vms[vm]?.clientJoined == false else { continue }
                joined.append((entry.identity.name, vm))
            }
        }
        for (_, vm) in joined.sorted(by: { $0.client < $1.client }) {
            guard reconciler.vms[vm]?.clientJoined == false else { continue }
            next += reconciler.onClientJoined(vm, now: t)
        }
        self.reconciler = reconciler
        return dispatches(next, trigger: Self.reconcileTrigger, now: now)
    }

    /// The VEM domains of a `vm.list` output (a JSON array of domains, VEM's metadata as `vm` and `group`; a
    /// domain `shutoff` or `crashed` is not running), or nil when it is not one.
    static func domains(in output: String) -> [HostDomain]? {
        struct Listed: Decodable {
            var vm: String?
            var group: String?
            var vcpus: Int?
            var memoryKiB: Int?
            var state: String?
            enum CodingKeys: String, CodingKey {
                case vm, group, vcpus, state
                case memoryKiB = "memory_kib"
            }
        }
        guard let listed = try? JSONDecoder().decode([Listed].self, from: Data(output.utf8)) else { return nil }
        return listed.compactMap { d in
            guard let vm = d.vm, let group = d.group else { return nil }
            let dead = d.state == "shutoff" || d.state == "crashed"
            return HostDomain(
                vm: vm, group: group, cpus: d.vcpus ?? 0, memoryMiB: (d.memoryKiB ?? 0) / 1024, running: !dead)
        }
    }
}
