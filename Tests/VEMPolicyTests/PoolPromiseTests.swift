import Testing

@testable import VEMPolicy

/// The causes found when the pool lost to static partitions on the traces, each as a scripted scenario.
@Suite struct PoolPromiseTests {
    @Test func idleVMsAreKeptWhileNobodyWantsTheirRoom() throws {
        // atlas's three VMs have been idle for hours and nobody else waits: a new atlas job would find them.
        let vms = (0..<3).map { Build.vm("atlas-\($0)", "atlas", on: "h1", busy: false, idleSince: 0, createdAt: 0) }
        let snapshot = Build.withFreeFromVMs(
            PoolSnapshot(
                groups: [Build.group("atlas"), Build.group("cms")], hosts: [Build.host("h1", cpus: 8)], vms: vms))
        let plan = try Planner(configuration: PolicyConfiguration(keepIdleVMs: true)).plan(snapshot, now: 10_000)
        #expect(plan.directives.isEmpty)
        // Without keepIdleVMs, the old rule: drained after the idle timeout.
        let releasing = Planner(configuration: PolicyConfiguration(keepIdleVMs: false))
        #expect(try releasing.plan(snapshot, now: 10_000).drains.count == 3)
    }

    @Test func idleVMsAreDestroyedAtOnceForAGroupThatWantsTheirRoom() throws {
        // The host is full of atlas's idle VMs, two of them created a minute ago; cms's jobs wait.
        let vms = (0..<4).map {
            Build.vm("atlas-\($0)", "atlas", on: "h1", busy: false, idleSince: 940, createdAt: $0 < 2 ? 0 : 940)
        }
        let snapshot = Build.withFreeFromVMs(
            PoolSnapshot(
                groups: [Build.group("atlas"), Build.group("cms", pendingCPUs: 2)],
                hosts: [Build.host("h1", cpus: 4)], vms: vms))
        let plan = try Planner(configuration: PolicyConfiguration(keepIdleVMs: true)).plan(snapshot, now: 1000)
        // Idle VMs, young or not, are destroyed (no drain step, no idle timeout): their group has nothing waiting.
        #expect(plan.destroys == ["atlas-2", "atlas-3"])
        #expect(plan.drains.isEmpty)
        #expect(plan.reason(for: "atlas-3")?.hasSuffix("atlas-3 is idle: destroyed at once") == true)
        // Before: only VMs past their minimum lifetime, drained, and destroyed a step later.
    }

    @Test func reclaimDrainsTheVMsWhoseJobsEndFirst() throws {
        // atlas's four busy VMs hold the host; cms needs two. The batch system knows when their jobs end.
        let ends: [Int?] = [5000, 2000, 9000, nil]
        var vms = (0..<4).map { Build.vm("atlas-\($0)", "atlas", on: "h1", createdAt: $0 * 100) }
        for i in vms.indices { vms[i].busyUntil = ends[i] }
        let snapshot = Build.withFreeFromVMs(
            PoolSnapshot(
                groups: [Build.group("atlas", pendingCPUs: 10), Build.group("cms", pendingCPUs: 2)],
                hosts: [Build.host("h1", cpus: 4)], vms: vms))
        let planner = Planner(configuration: PolicyConfiguration(minLifetime: 150, starvationGrace: 1800))
        let plan = try planner.plan(snapshot, now: 1000)
        #expect(plan.drains == ["atlas-1", "atlas-0"])
    }

    /// Three hosts of 3 vCPUs, three groups of equal share (3 VMs each): a's first job needs `head` CPUs at once,
    /// b has 10 CPUs of work waiting, c none.
    func wideHead(_ head: Int) -> PoolSnapshot {
        var a = Build.group("a", pendingCPUs: head)
        a.headJobCPUs = head
        return PoolSnapshot(
            groups: [a, Build.group("b", pendingCPUs: 10), Build.group("c")],
            hosts: (1...3).map { Build.host("h\($0)", cpus: 3) })
    }

    @Test func aWideFirstJobGetsAllItsVMsWhenTheOthersSharesLeaveRoom() throws {
        // Water-filling alone gives a 5 VMs and b 4: a's 6-CPU job would wait until b's demand falls. b is above
        // its share (3), so a's job may have 6 and b keeps its 3.
        let plan = try Planner().plan(wideHead(6), now: 0)
        #expect(plan[group: "a"]?.targetVMs == 6)
        #expect(plan[group: "b"]?.targetVMs == 3)
        #expect(plan[group: "a"]?.why.contains("raised to 6 for its first waiting job (6 CPUs at once)") == true)
        // A job of 8 would eat into b's share: no reservation, plain water-filling.
        let wider = try Planner().plan(wideHead(8), now: 0)
        #expect(wider[group: "a"]?.targetVMs == 5)
        #expect(wider[group: "b"]?.targetVMs == 4)
    }

    @Test func aWideFirstJobIsReservedItsVMsBesideThoseBusyWithItsGroupsRunningJobs() throws {
        // Four hosts of 3 vCPUs, three groups of equal share (4 VMs each). a runs a long job on one VM and its first
        // waiting job needs 6 at once; b has 20 CPUs of work waiting. Water-filling gives a 6 VMs: one stays busy,
        // so only 5 are free and the job cannot start — on KTH-SP2 a 90-wide job of `other` waited 58 hours so
        // behind its own 2-CPU job, with 88 of its 90 VMs idle. a needs 7, and b's share leaves room for them.
        var a = Build.group("a", pendingCPUs: 6)
        a.headJobCPUs = 6
        let snapshot = Build.withFreeFromVMs(
            PoolSnapshot(
                groups: [a, Build.group("b", pendingCPUs: 20), Build.group("c")],
                hosts: (1...4).map { Build.host("h\($0)", cpus: 3) },
                vms: [Build.vm("a-0", "a", on: "h1", busy: true, createdAt: 0)]))
        let plan = try Planner().plan(snapshot, now: 1000)
        #expect(plan[group: "a"]?.targetVMs == 7)
        #expect(plan[group: "b"]?.targetVMs == 5)
        #expect(plan[group: "a"]?.why.contains("raised to 7 for its first waiting job (6 CPUs at once)") == true)
        // A job of one VM starts on whichever VM of its group frees first: no reservation beside the busy ones.
        var single = Build.group("a", pendingCPUs: 1)
        single.headJobCPUs = 1
        let busy = Build.withFreeFromVMs(
            PoolSnapshot(
                groups: [single, Build.group("b", pendingCPUs: 20), Build.group("c")],
                hosts: (1...4).map { Build.host("h\($0)", cpus: 3) },
                vms: (0..<6).map { Build.vm("a-\($0)", "a", on: "h\($0 / 3 + 1)", busy: true, createdAt: 0) }))
        let fair = try Planner().plan(busy, now: 1000)
        #expect(fair[group: "a"]?.targetVMs == 6)
        #expect(fair[group: "b"]?.targetVMs == 6)
    }

    @Test func aGroupWaitingForItsOwnRunningJobsKeepsItsShareAgainstAnotherGroupsReservation() throws {
        // Four hosts of 3 vCPUs; a's share is 3 VMs, b's 9. b runs five jobs and its first waiting job needs 5 VMs
        // at once: within its target of 9, once its own jobs end. a's first job, waiting longer, needs 7. Counting b
        // as unable to start its first job would leave it only its busy VMs, and a's reservation would take 7 of
        // the 12 — on KTH-SP2 (window 6d22h) an 80-wide job of a 7 % group held 63 idle VMs for a day while the
        // 78 % group waited with 19. b is not stuck: it keeps its share, and its own job is reserved instead.
        var a = Build.group("a", share: 1, pendingCPUs: 7, wait: 5000)
        a.headJobCPUs = 7
        var b = Build.group("b", share: 3, pendingCPUs: 5, wait: 100)
        b.headJobCPUs = 5
        let snapshot = Build.withFreeFromVMs(
            PoolSnapshot(
                groups: [a, b], hosts: (1...4).map { Build.host("h\($0)", cpus: 3) },
                vms: (0..<5).map { Build.vm("b-\($0)", "b", on: "h\($0 / 3 + 1)", busy: true, createdAt: 0) }))
        let plan = try Planner().plan(snapshot, now: 6000)
        #expect(plan[group: "b"]?.targetVMs == 10)
        #expect(plan[group: "a"]?.targetVMs == 2)
    }

    @Test func minimumsThatDoNotFitDoNotProtectMoreThanTheTarget() throws {
        // One vCPU, two groups with min_vms 1: the water-filling gives the minimum to alice (larger share), and
        // atlas, holding the only slot with a busy VM, is above its target of 0. Its min_vms used to protect the VM
        // all the same, and alice never got its minimum (found by ConvergenceTests' random pools).
        let snapshot = Build.withFreeFromVMs(
            PoolSnapshot(
                groups: [Build.group("alice", share: 5, min: 1), Build.group("atlas", share: 1, min: 1)],
                hosts: [Build.host("h1", cpus: 1)],
                vms: [Build.vm("atlas-1", "atlas", on: "h1", busy: true, idleSince: 0, createdAt: 0)]))
        let plan = try Planner(configuration: PolicyConfiguration(minLifetime: 0)).plan(snapshot, now: 1000)
        #expect(plan[group: "alice"]?.targetVMs == 1)
        #expect(plan[group: "atlas"]?.targetVMs == 0)
        #expect(plan.drains == ["atlas-1"])
    }
}
