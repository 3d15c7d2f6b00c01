extension Planner.Step {
    /// Groups below target get VMs, one at a time to the group lowest in the water (its next VM's level), so a
    /// burst of one group does not take every booting slot. Each VM goes on the host the placement policy picks
    /// among those with room (vCPUs and memory, booting VMs counted) and a free per-host booting slot.
    mutating func createForDeficits() {
        var open = groups.filter { (targets[$0.name]?.targetVMs ?? 0) > current($0.name) }
        guard !open.isEmpty else { return }
        var rooms = hostRooms()
        while !open.isEmpty {
            let position = lowestInWater(open)
            let group = open[position]
            let target = targets[group.name]?.targetVMs ?? 0
            let have = current(group.name) + created[group.name, default: 0]
            guard bootingSiteWide < configuration.maxBootingSiteWide else {
                for g in open {
                    let missing = (targets[g.name]?.targetVMs ?? 0) - current(g.name) - created[g.name, default: 0]
                    shortfalls.append((g.name, missing, .throttled))
                }
                notes.append(
                    "booting limit reached (\(bootingSiteWide)/\(configuration.maxBootingSiteWide) site-wide): "
                        + open.map(\.name).joined(separator: ", ") + " wait")
                return
            }
            guard let index = place(size(of: group), in: rooms) else {
                let kind: Planner.Shortfall = fitsIgnoringBootingLimit(size(of: group)) ? .throttled : .noRoom
                shortfalls.append((group.name, target - have, kind))
                notes.append(
                    kind == .throttled
                        ? "\(group.name): \(target - have) VM(s) wait for a per-host booting slot "
                            + "(\(configuration.maxBootingPerHost) per host)"
                        : "\(group.name): no host has room for a VM of \(group.vmCPUs) vCPUs and "
                            + "\(group.vmMemoryMiB) MiB (\(target - have) missing)")
                open.remove(at: position)
                continue
            }
            let host = rooms[index].name
            rooms[index].room = rooms[index].room - size(of: group)
            rooms[index].booting += 1
            let t = targets[group.name]
            creates.append(
                Directive(
                    .create(group: group.name, host: host),
                    reason: "\(group.name) has \(group.pendingCPUs) pending CPUs and \(have)/\(target) VMs of its "
                        + "target (share \(t?.shareVMs ?? 0) VMs)"))
            free[host] = (free[host] ?? .zero) - size(of: group)
            bootingOnHost[host, default: 0] += 1
            bootingSiteWide += 1
            created[group.name, default: 0] += 1
            if have + 1 >= target { open.remove(at: position) }
        }
    }

    /// The position in `open` (name order) of the group whose next VM sits lowest in the water — a starving
    /// group still short of its guaranteed share first (``owed(_:)``): room a preemption freed for it was taken
    /// for it, and another group below its target would otherwise take it first whenever its next VM sits lower
    /// (LCG `3d23h`: g16 starved 27 minutes while g1, lower in the water, took the room of each kill made for it).
    func lowestInWater(_ open: [GroupState]) -> Int {
        var best = 0
        var bestKey = (owed: false, level: Double.infinity)
        for (position, g) in open.enumerated() {
            guard let claim = claims[g.name] else { continue }
            let level = FairShare.level(
                of: claim, count: current(g.name) + created[g.name, default: 0] + 1, capacityCPUs: capacity.cpus,
                capacityMemoryMiB: capacity.memory)
            let owed = owed(g.name)
            if position == 0 || (owed && !bestKey.owed) || (owed == bestKey.owed && level < bestKey.level) {
                best = position
                bestKey = (owed, level)
            }
        }
        return best
    }

    /// Whether `group` starves (below its guaranteed share past the grace) and still lacks part of that share
    /// after this step's creates.
    func owed(_ group: String) -> Bool {
        guard let t = targets[group], t.starving else { return false }
        return current(group) + created[group, default: 0] < min(t.guaranteedVMs, t.targetVMs)
    }

    /// An accepting host's room and VMs booting there, as ``free`` and ``bootingOnHost`` hold them.
    struct HostRoom {
        var name: String
        var room: Planner.Size
        var booting: Int
    }

    /// The accepting hosts (those ``free`` holds) in name order, with their room and booting VMs: what
    /// ``createForDeficits()`` places on, kept beside ``free`` and ``bootingOnHost`` as it places, so that a
    /// placement reads no dictionary (two look-ups by name per host and per VM placed were 3 ms of a pass placing
    /// 40 VMs on 1,000 hosts).
    func hostRooms() -> [HostRoom] {
        hosts.compactMap { host in
            free[host.name].map { HostRoom(name: host.name, room: $0, booting: bootingOnHost[host.name, default: 0]) }
        }
    }

    /// The position in `rooms` of the host for a new VM of `need`, by the placement policy (``choose(_:)``'s
    /// rule: `pack` the fullest, `spread` the emptiest, ties to the earlier name); `nil` when none has room and
    /// a booting slot.
    func place(_ need: Planner.Size, in rooms: [HostRoom]) -> Int? {
        var best: Int?
        for i in rooms.indices {
            let r = rooms[i]
            guard need.fits(in: r.room), r.booting < configuration.maxBootingPerHost else { continue }
            if let b = best, !prefers(r.room, over: rooms[b].room) { continue }
            best = i
        }
        return best
    }

    /// Picks by the placement policy among hosts (in name order) with their room: `pack` the fullest (least free
    /// vCPUs, then memory), `spread` the emptiest; ties go to the earlier name.
    func choose<T>(_ candidates: [(T, Planner.Size)]) -> (T, Planner.Size)? {
        var best: (T, Planner.Size)?
        for c in candidates {
            if let b = best, !prefers(c.1, over: b.1) { continue }
            best = c
        }
        return best
    }

    /// Whether the placement policy prefers a host with `room` to one with `best` (strictly: ties keep the
    /// earlier): `pack` the fuller (fewer free vCPUs, then memory), `spread` the emptier.
    func prefers(_ room: Planner.Size, over best: Planner.Size) -> Bool {
        let key = (room.cpus, room.memory)
        let bestKey = (best.cpus, best.memory)
        switch configuration.placement {
        case .pack: return key < bestKey
        case .spread: return key > bestKey
        }
    }

    /// Whether some accepting host has room for `need`, booting limits aside.
    func fitsIgnoringBootingLimit(_ need: Planner.Size) -> Bool {
        free.values.contains { need.fits(in: $0) }
    }
}
