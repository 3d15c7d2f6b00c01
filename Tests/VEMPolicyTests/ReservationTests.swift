import Testing

@testable import VEMPolicy

/// The wide first job's reservation across groups (issue 16): kept until its job starts, and sized by when the
/// room it needs frees up.
@Suite struct ReservationTests {
    /// Four hosts of 4 vCPUs, two groups of equal share (8 VMs each), each with a first job of 10 VMs waiting:
    /// either fits beside the other, not both. b's has waited longer.
    func twoWideJobs(aWait: Int = 1000, reservation: Reservation? = nil) -> PoolSnapshot {
        var a = Build.group("a", pendingCPUs: 10, wait: aWait)
        a.headJobCPUs = 10
        var b = Build.group("b", pendingCPUs: 10, wait: 5000)
        b.headJobCPUs = 10
        return PoolSnapshot(
            groups: [a, b], hosts: (1...4).map { Build.host("h\($0)", cpus: 4) }, reservation: reservation)
    }

    @Test func aReservationIsKeptUntilItsJobStarts() throws {
        // Without a reservation held, b's job (waiting longer) gets it.
        let fresh = try Planner().plan(twoWideJobs(), now: 10_000)
        #expect(fresh[group: "b"]?.targetVMs == 10)
        #expect(fresh.reservation == Reservation(group: "b", submittedAt: 5000))
        // a's job was reserved by the previous step and still waits first in a's queue: it keeps its reservation.
        // Moving it to b (SDSC-SP2 `151d`: g22's 63-wide job and g12's, every few steps) drained or destroyed the
        // VMs gathered for one job to gather them again for the other.
        let held = Reservation(group: "a", submittedAt: 9000)
        let kept = try Planner().plan(twoWideJobs(reservation: held), now: 10_000)
        #expect(kept[group: "a"]?.targetVMs == 10)
        #expect(kept[group: "b"]?.targetVMs == 6)
        #expect(kept.reservation == held)
        // The batch system measured the wait a little earlier than the planner's clock: still the same job.
        let late = try Planner().plan(twoWideJobs(aWait: 1030, reservation: held), now: 10_060)
        #expect(late.reservation == held)
        // a's job started: its first waiting job is another one (submitted at 9,900). The reservation is free.
        let next = try Planner().plan(twoWideJobs(aWait: 100, reservation: held), now: 10_000)
        #expect(next[group: "b"]?.targetVMs == 10)
        #expect(next.reservation == Reservation(group: "b", submittedAt: 5000))
    }

    @Test func aWideJobCountsTheBusyVMsOfItsGroupThatFreeBeforeItCanStartAsItsOwn() throws {
        // Four hosts of 4 vCPUs; shares g 2, o 1, h 1 (guarantees 8, 4, 4). g runs 4 VMs whose jobs end at 1,100
        // and its first waiting job needs 8 at once; o holds the other 12, busy until 2,000, with more work
        // waiting. The 8 VMs can be g's at 2,000 at the earliest (o's VMs beyond its guarantee free then), and by
        // then g's own 4 are free: the job needs 8 VMs, within g's fair target. Counting g's busy VMs as well
        // reserved 12 and drained 8 of o's VMs, whose room would then sit idle beside g's 4 free ones.
        var g = Build.group("g", share: 2, pendingCPUs: 8, wait: 600)
        g.headJobCPUs = 8
        var vms = (0..<4).map { Build.vm("g-\($0)", "g", on: "h1", createdAt: 0) }
        vms += (0..<12).map { Build.vm("o-\($0)", "o", on: "h\($0 / 4 + 2)", createdAt: 0) }
        for i in vms.indices { vms[i].busyUntil = vms[i].group == "g" ? 1100 : 2000 }
        let snapshot = Build.withFreeFromVMs(
            PoolSnapshot(
                groups: [g, Build.group("h", share: 1), Build.group("o", share: 1, pendingCPUs: 20)],
                hosts: (1...4).map { Build.host("h\($0)", cpus: 4) }, vms: vms))
        let plan = try Planner(configuration: PolicyConfiguration(minLifetime: 0)).plan(snapshot, now: 1000)
        #expect(plan.reservation == nil)
        #expect(plan[group: "g"]?.why.contains("raised") == false)
        #expect((plan[group: "g"]?.targetVMs ?? 0) >= 8)
        #expect((plan[group: "o"]?.targetVMs ?? 0) > 4)
        // g's own VMs run until 3,000 instead: they are still busy when o's room frees, and the job needs 8 VMs
        // beside them (the rule that keeps KTH-SP2's 90-wide job from waiting behind its group's 2-CPU job).
        var longer = snapshot
        for i in longer.vms.indices where longer.vms[i].group == "g" { longer.vms[i].busyUntil = 3000 }
        let raised = try Planner(configuration: PolicyConfiguration(minLifetime: 0)).plan(longer, now: 1000)
        #expect(raised[group: "g"]?.targetVMs == 12)
        #expect(raised.reservation == Reservation(group: "g", submittedAt: 400))
    }
}
