/// One VEM domain a host reports with `vm.list` (VEM's metadata read back from the domain).
public struct HostDomain: Sendable, Hashable, Codable {
    /// The VM id in its metadata (also its name in the inventory).
    public var vm: String
    /// The group in its metadata.
    public var group: String
    /// vCPUs.
    public var cpus: Int
    /// Memory, in MiB.
    public var memoryMiB: Int
    /// Whether the domain runs (false: shut off or crashed, its guest dead).
    public var running: Bool

    /// Creates a record.
    public init(vm: String, group: String, cpus: Int, memoryMiB: Int, running: Bool = true) {
        self.vm = vm
        self.group = group
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.running = running
    }
}

extension Reconciler {
    /// Call when a host is about to be asked for its domains; hand the mark back with its list to
    /// ``onHostListed(_:domains:mark:now:)`` (a VM placed on the host by an operation issued after the mark
    /// is not judged by that list).
    public mutating func listMark() -> Int {
        defer { nextOperationID += 1 }
        return nextOperationID
    }

    /// What a host's `vm.list` says, against the inventory; returns the operations that follow.
    ///
    /// - a VM of the inventory on `host` that the list does not show is gone (``onVMDestroyed(_:now:)``: a
    ///   decision says so and its node is removed), unless it was placed there after the list was asked for or
    ///   a migration is under way; one the list shows shut off (or crashed) is lost too, and destroyed (its
    ///   domain undefined) before its node is removed;
    /// - a listed VEM domain the inventory does not know is adopted when its group is configured (as
    ///   `booting`: its node is registered when its Client joins, and it is destroyed if none joins within
    ///   `bootTimeout`), and reported once (a decision) otherwise.
    public mutating func onHostListed(_ host: String, domains: [HostDomain], mark: Int, now: Int) -> [PoolOperation] {
        var operations: [PoolOperation] = []
        let listed = Dictionary(domains.map { ($0.vm, $0) }, uniquingKeysWith: { a, _ in a })
        // This host's VMs in name order (not every VM sorted: each of 1,000 hosts' lists would sort them all).
        let onHost = vms.compactMap { $0.value.host == host ? $0.key : nil }.sorted()
        for id in onHost {
            guard var vm = vms[id], vm.host == host, !vm.gone, vm.nodeCheckAfter == nil, vm.migratingTo == nil,
                (vm.placedBy ?? Int.min) < mark
            else { continue }
            guard let domain = listed[id] else {
                operations += onVMDestroyed(id, now: now)
                continue
            }
            guard !domain.running, vm.pending == nil, vm.stage != .destroying else { continue }
            log(
                .lost, vm, host: host, now: now,
                "its domain on \(host) is shut off\(vm.busy ? " while running a job" : ""): destroyed")
            vm.stage = .destroying
            operations.append(issue(.destroyVM(host: host), for: &vm, now: now))
            store(vm)
        }
        var seen = Set<String>()
        for domain in domains.sorted(by: { $0.vm < $1.vm })
        where vms[domain.vm] == nil && seen.insert(domain.vm).inserted {
            guard group(named: domain.group) != nil else {
                let key = host + "/" + domain.vm
                guard !reportedUnknown.contains(key) else { continue }
                reportedUnknown.insert(key)
                record(
                    PoolDecision(
                        time: now, group: domain.group, vm: domain.vm, host: host, action: .unknown,
                        reason: "a VEM domain of group '\(domain.group)', which is not configured, runs on \(host): "
                            + "left alone"))
                continue
            }
            let adopted = VMRecord(
                id: domain.vm, group: domain.group, host: host, phase: .booting, createdAt: now, cpus: domain.cpus,
                memoryMiB: domain.memoryMiB)
            guard (try? adopt(adopted, registered: false)) != nil, var vm = vms[domain.vm] else { continue }
            vm.stageSince = now
            log(.adopt, vm, host: host, now: now, "\(host) has it (vm.list) but the inventory did not hold it: adopted")
            if !domain.running {
                vm.stage = .destroying
                operations.append(issue(.destroyVM(host: host), for: &vm, now: now))
                log(.destroy, vm, host: host, now: now, "its domain on \(host) is shut off")
            }
            store(vm)
        }
        return operations
    }
}
