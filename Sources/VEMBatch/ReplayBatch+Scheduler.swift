/// One group's queue and pool inside the replay batch.
struct GroupSlot: Sendable {
    var name: String
    /// Registered (not removed) nodes, in registration order.
    var nodes: [Int] = []
    /// Waiting jobs in FCFS order; the live part starts at `head`.
    var pending: [Int32] = []
    var head = 0
    var pendingCPUs = 0
    var pendingMemoryMB = 0
    var running: [Int32] = []
    var runningCPUs = 0
    /// CPUs of registered nodes that take jobs (not draining).
    var usableCPUs = 0
    /// Idle CPUs of those nodes.
    var freeCPUs = 0
    var isDirty = false

    init(name: String) { self.name = name }

    var pendingCount: Int { pending.count - head }
}

/// Part of a job's allocation: `cpus` CPUs on node `node`.
struct NodeShare: Sendable {
    var node: Int32
    var cpus: Int32
}

extension ReplayBatch {
    // MARK: - Job life cycle

    mutating func submit(_ i: Int) {
        let g = Int(jobGroup[i])
        let job = jobs[i]
        if configuration.wideJobs == .reject && job.processors > groups[g].usableCPUs {
            status[i] = .rejected
            return
        }
        status[i] = .pending
        groups[g].pending.append(Int32(i))
        groups[g].pendingCPUs += job.processors
        groups[g].pendingMemoryMB += job.memoryMB
        markDirty(g)
    }

    /// Starts job `i` of group `g` now. The caller has checked that it fits in the group's free CPUs.
    mutating func start(_ i: Int, group g: Int) {
        let job = jobs[i]
        var need = job.processors
        var shares: [NodeShare] = []
        for n in groups[g].nodes where !nodes[n].draining {
            let free = nodes[n].cpus - nodes[n].allocated
            guard free > 0 else { continue }
            let take = Swift.min(free, need)
            nodes[n].allocated += take
            nodes[n].jobs += 1
            shares.append(NodeShare(node: Int32(n), cpus: Int32(take)))
            need -= take
            if need == 0 { break }
        }
        allocations[Int32(i)] = shares
        status[i] = .running
        startTime[i] = now
        completions.push(EventHeap.Event(time: now + job.runTime, job: Int32(i)))
        runningIndex[i] = Int32(groups[g].running.count)
        groups[g].running.append(Int32(i))
        groups[g].runningCPUs += job.processors
        groups[g].freeCPUs -= job.processors
        groups[g].pendingCPUs -= job.processors
        groups[g].pendingMemoryMB -= job.memoryMB
    }

    mutating func finish(_ i: Int) {
        let g = Int(jobGroup[i])
        status[i] = .finished
        endTime[i] = now
        for share in allocations.removeValue(forKey: Int32(i)) ?? [] {
            let n = Int(share.node)
            nodes[n].allocated -= Int(share.cpus)
            nodes[n].jobs -= 1
            if !nodes[n].draining { groups[g].freeCPUs += Int(share.cpus) }
        }
        // Swap-remove from the group's running list.
        let pos = Int(runningIndex[i])
        let last = groups[g].running.removeLast()
        if Int(last) != i {
            groups[g].running[pos] = last
            runningIndex[Int(last)] = Int32(pos)
        }
        runningIndex[i] = -1
        groups[g].runningCPUs -= jobs[i].processors
        markDirty(g)
    }

    // MARK: - Scheduling

    mutating func markDirty(_ g: Int) {
        guard !groups[g].isDirty else { return }
        groups[g].isDirty = true
        dirty.append(g)
    }

    mutating func scheduleDirtyGroups() {
        for g in dirty {
            groups[g].isDirty = false
            schedule(g)
        }
        dirty.removeAll(keepingCapacity: true)
    }

    /// One FCFS + EASY backfill pass over group `g` at ``now``.
    mutating func schedule(_ g: Int) {
        // 1. Start jobs in order while the first waiting one fits.
        while groups[g].head < groups[g].pending.count {
            let j = Int(groups[g].pending[groups[g].head])
            guard jobs[j].processors <= groups[g].freeCPUs else { break }
            groups[g].head += 1
            start(j, group: g)
        }
        compactQueue(g)
        guard groups[g].pendingCount > 1, groups[g].freeCPUs > 0 else { return }

        // 2. The head's reservation: the shadow time, and the CPUs it leaves spare then.
        let queue = groups[g].pending
        let head = groups[g].head
        let (shadow, spare) = reservation(forHeadNeeding: jobs[Int(queue[head])].processors, group: g)
        var extra = spare

        // 3. Backfill: later jobs that fit now and do not delay the head.
        var started: [Int] = []
        var position = head + 1
        while position < queue.count && groups[g].freeCPUs > 0 {
            let j = Int(queue[position])
            let p = jobs[j].processors
            if p <= groups[g].freeCPUs {
                let endsBeforeShadow = shadow == Int.max || now + jobs[j].estimatedTime <= shadow
                if endsBeforeShadow || p <= extra {
                    if !endsBeforeShadow { extra -= p }
                    start(j, group: g)
                    started.append(position)
                }
            }
            position += 1
        }
        guard !started.isEmpty else { return }
        var rebuilt: [Int32] = []
        rebuilt.reserveCapacity(queue.count - head - started.count)
        var next = 0
        for k in head..<queue.count {
            if next < started.count && started[next] == k {
                next += 1
                continue
            }
            rebuilt.append(queue[k])
        }
        groups[g].pending = rebuilt
        groups[g].head = 0
    }

    /// The earliest time at which `needed` CPUs are free in group `g` if running jobs end at their estimates
    /// (never earlier than now), and how many CPUs beyond `needed` are free then. `(Int.max, Int.max)` when
    /// the group's usable CPUs can never hold the job (no reservation: nothing to protect).
    func reservation(forHeadNeeding needed: Int, group g: Int) -> (shadow: Int, extra: Int) {
        guard needed <= groups[g].usableCPUs else { return (Int.max, Int.max) }
        var available = groups[g].freeCPUs
        if available >= needed { return (now, available - needed) }
        var ends: [(time: Int, cpus: Int)] = []
        ends.reserveCapacity(groups[g].running.count)
        for r in groups[g].running {
            let j = Int(r)
            var released = 0
            for share in allocations[r] ?? [] where !nodes[Int(share.node)].draining { released += Int(share.cpus) }
            guard released > 0 else { continue }
            ends.append((Swift.max(now, startTime[j] + jobs[j].estimatedTime), released))
        }
        ends.sort { $0.time < $1.time }
        var k = 0
        while k < ends.count {
            let t = ends[k].time
            while k < ends.count && ends[k].time == t {
                available += ends[k].cpus
                k += 1
            }
            if available >= needed { return (t, available - needed) }
        }
        return (Int.max, Int.max)
    }

    /// Drops the consumed front of a group's queue once it is large.
    mutating func compactQueue(_ g: Int) {
        let head = groups[g].head
        guard head > 1024, head * 2 > groups[g].pending.count else { return }
        groups[g].pending.removeFirst(head)
        groups[g].head = 0
    }
}
