/// Empties the hosts an operator drained (`vem host drain HOST`): the directives that move each VM off a host
/// that takes no new VMs (``HostState/acceptingVMs`` false). A pure function of the snapshot.
///
/// - With live migration allowed, an active or draining VM is migrated to an accepting host with room for it (the
///   placement policy's choice: `pack` the fullest that fits, `spread` the emptiest), at most
///   ``maxMigrations`` at once over the pool (VMs already migrating count);
/// - otherwise — migration off, or no host has room — an active VM is drained: it takes no new jobs and is
///   destroyed once idle, and the planner creates its group's next VM on an accepting host;
/// - a booting VM is left until it is active; a VM with a migration under way is left alone.
public enum Evacuation {
    /// Live migrations under way at once while hosts are emptied (more would make each one slower).
    public static let maxMigrations = 2

    /// The directives that move VMs off the hosts of `snapshot` that take no new VMs.
    /// - Parameters:
    ///   - snapshot: The pool now.
    ///   - configuration: Whether migration is allowed, and the placement policy.
    ///   - busy: VMs that have an operation under way (left alone this step).
    public static func directives(
        _ snapshot: PoolSnapshot, configuration: PolicyConfiguration, busy: Set<String> = []
    ) -> [Directive] {
        let closed = Set(snapshot.hosts.filter { !$0.acceptingVMs }.map(\.name))
        guard !closed.isEmpty else { return [] }
        var room = freeRoom(snapshot)
        var migrating = snapshot.vms.filter { $0.migratingTo != nil }.count
        var directives: [Directive] = []
        let leaving = snapshot.vms.filter { closed.contains($0.host) && $0.migratingTo == nil && !busy.contains($0.id) }
        for vm in leaving.sorted(by: { $0.id < $1.id }) where vm.phase != .booting {
            if configuration.migrationAllowed, migrating < maxMigrations,
                let destination = place(vm, room: room, placement: configuration.placement)
            {
                if let r = room[destination] { room[destination] = (r.cpus - vm.cpus, r.memory - vm.memoryMiB) }
                migrating += 1
                directives.append(
                    Directive(
                        .migrate(vm: vm.id, host: destination),
                        reason: "\(vm.host) is being drained: live-migrated to \(destination)"))
            } else if vm.phase == .active, !configuration.migrationAllowed || noRoomAnywhere(vm, room) {
                let why = configuration.migrationAllowed ? "no accepting host has room for it" : "migration is off"
                directives.append(
                    Directive(
                        .drain(vm: vm.id),
                        reason: "\(vm.host) is being drained and \(why): drained, to be recreated elsewhere"))
            }
        }
        return directives
    }

    /// Room for new VMs on each accepting host: what it reports, never more than its capacity less the VMs on it
    /// and those migrating to it (the planner's own measure).
    static func freeRoom(_ snapshot: PoolSnapshot) -> [String: (cpus: Int, memory: Int)] {
        var used: [String: (cpus: Int, memory: Int)] = [:]
        for vm in snapshot.vms {
            for host in [vm.host] + (vm.migratingTo.map { [$0] } ?? []) {
                let u = used[host] ?? (0, 0)
                used[host] = (u.cpus + vm.cpus, u.memory + vm.memoryMiB)
            }
        }
        var room: [String: (cpus: Int, memory: Int)] = [:]
        for host in snapshot.hosts where host.acceptingVMs {
            let u = used[host.name] ?? (0, 0)
            room[host.name] = (
                max(0, min(host.freeCPUs, host.cpus - u.cpus)), max(0, min(host.freeMemoryMiB, host.memoryMiB - u.memory))
            )
        }
        return room
    }

    /// The destination the placement policy picks for `vm` among hosts with room, by name on ties.
    static func place(
        _ vm: VMState, room: [String: (cpus: Int, memory: Int)], placement: PolicyConfiguration.Placement
    ) -> String? {
        let fitting = room.filter { $0.value.cpus >= vm.cpus && $0.value.memory >= vm.memoryMiB }
        let ordered = fitting.sorted { a, b in
            if a.value.cpus != b.value.cpus {
                return placement == .spread ? a.value.cpus > b.value.cpus : a.value.cpus < b.value.cpus
            }
            return a.key < b.key
        }
        return ordered.first?.key
    }

    /// Whether no accepting host could take `vm` even with no other migration this step.
    static func noRoomAnywhere(_ vm: VMState, _ room: [String: (cpus: Int, memory: Int)]) -> Bool {
        !room.values.contains { $0.cpus >= vm.cpus && $0.memory >= vm.memoryMiB }
    }
}

extension Plan {
    /// The plan of a step in which the planner did not run (the operator paused it): no directives, no targets,
    /// and `note` saying why.
    public static func notRun(now: Int, note: String) -> Plan {
        Plan(now: now, capacityCPUs: 0, capacityMemoryMiB: 0, directives: [], targets: [], notes: [note])
    }
}
