import Foundation
import Testing
import VEMBatch

@testable import VEMSlurm

/// The driver reports when its nodes' jobs end (so the planner drains the VM that frees first) and how wide each
/// group's first waiting job is (so the planner reserves VMs for a wide job).
@Suite struct JobEndTests {
    /// A `squeue --json` job record with the fields the end time and the queue order come from.
    func record(id: Int, state: String, start: Int, end: Int, limit: String, priority: Int, cpus: Int) -> String {
        let nodes = state == "RUNNING" ? "fa1" : ""
        return """
            {"job_id": \(id), "job_state": "\(state)", "partition": "dynA", "cpus": \(cpus), "nodes": "\(nodes)",
             "submit_time": 100, "start_time": \(start), "end_time": \(end), "time_limit": \(limit),
             "priority": \(priority)}
            """
    }

    @Test func endTimeFromTheTimeLimitElseEndTimeAndNoneWhenUnlimited() throws {
        let text = """
            {"errors": [], "jobs": [
            \(record(id: 1, state: "RUNNING", start: 1000, end: 99_999, limit: "30", priority: 5, cpus: 1)),
            \(record(id: 2, state: "RUNNING", start: 1000, end: 4600, limit: "null", priority: 5, cpus: 1)),
            \(record(id: 3, state: "RUNNING", start: 1000, end: 1000 + 365 * 86_400, limit: "null", priority: 5,
                     cpus: 1)),
            \(record(id: 4, state: "RUNNING", start: 1000, end: 2000, limit: "4294967294", priority: 5, cpus: 1)),
            \(record(id: 5, state: "PENDING", start: 0, end: 0, limit: "60", priority: 7, cpus: 4))
            ]}
            """
        let jobs = try SlurmParser.jobs(fromSqueue: Data(text.utf8))
        // 30 minutes after the start; Slurm's end_time; a year after the start means no limit; an infinite
        // limit falls back to end_time; a pending job has no end.
        #expect(jobs.map(\.endTime) == [2800, 4600, nil, 2000, nil])
        #expect(jobs.map(\.priority) == [5, 5, 5, 5, 7])
    }

    @Test func aNodeIsBusyUntilItsLastJobEndsAndUnknownWhenOneHasNoLimit() throws {
        let node = { (name: String) in
            SlurmNode(name: name, state: "allocated", cpus: 2, allocatedCPUs: 2, partitions: ["dynA"])
        }
        let state = SlurmState(
            time: 500,
            jobs: [
                SlurmJob(id: 1, state: "RUNNING", partitions: ["dynA"], nodes: ["fa1"], endTime: 900),
                SlurmJob(id: 2, state: "RUNNING", partitions: ["dynA"], nodes: ["fa1"], endTime: 1200),
                SlurmJob(id: 3, state: "RUNNING", partitions: ["dynA"], nodes: ["fa2"], endTime: 800),
                SlurmJob(id: 4, state: "RUNNING", partitions: ["dynA"], nodes: ["fa2"], endTime: nil),
                SlurmJob(id: 5, state: "RUNNING", partitions: ["dynA"], nodes: ["fa3"], endTime: 700),
                SlurmJob(id: 6, state: "COMPLETED", partitions: ["dynA"], nodes: ["fa4"], endTime: 400),
            ],
            nodes: [node("fa1"), node("fa2"), node("fa3"), SlurmNode(name: "fa4", state: "idle", partitions: ["dynA"])]
        )
        let a = try #require(try SlurmGroups(fixtureMappings).snapshot(of: state)[group: "a"])
        #expect(a.nodes.map(\.busyUntil) == [1200, nil, 700, nil])
    }

    @Test func nodesSayWhenTheirLastJobStartedAndWhetherItWasRequeued() throws {
        // squeue's start_time and restart_cnt, as Slurm 22.05 writes them; a pending job's start_time is an
        // expected start and counts for no node.
        let text = """
            {"errors": [], "jobs": [
            {"job_id": 1, "job_state": "RUNNING", "partition": "dynA", "cpus": 1, "nodes": "fa1", "submit_time": 100,
             "start_time": 1000, "end_time": 2800, "time_limit": 30, "restart_cnt": 0},
            {"job_id": 2, "job_state": "RUNNING", "partition": "dynA", "cpus": 1, "nodes": "fa1", "submit_time": 100,
             "start_time": 1500, "end_time": 3300, "time_limit": 30, "restart_cnt": 0},
            {"job_id": 3, "job_state": "RUNNING", "partition": "dynA", "cpus": 2, "nodes": "fa[2-3]",
             "submit_time": 100, "start_time": 1200, "end_time": 3000, "time_limit": 30, "restart_cnt": 1},
            {"job_id": 4, "job_state": "PENDING", "partition": "dynA", "cpus": 1, "nodes": "", "submit_time": 100,
             "start_time": 1600, "end_time": 3400, "time_limit": 30, "restart_cnt": 2}
            ]}
            """
        let jobs = try SlurmParser.jobs(fromSqueue: Data(text.utf8))
        #expect(jobs.map(\.startTime) == [1000, 1500, 1200, 1600])
        #expect(jobs.map(\.restarts) == [0, 0, 1, 2])
        let node = { (name: String) in
            SlurmNode(name: name, state: "allocated", cpus: 2, allocatedCPUs: 2, partitions: ["dynA"])
        }
        let state = SlurmState(
            time: 2000, jobs: jobs,
            nodes: [node("fa1"), node("fa2"), node("fa3"), SlurmNode(name: "fa4", state: "idle", partitions: ["dynA"])]
        )
        let a = try #require(try SlurmGroups(fixtureMappings).snapshot(of: state)[group: "a"])
        #expect(a.nodes.map(\.busySince) == [1500, 1200, 1200, nil])
        #expect(a.nodes.map(\.requeuedJobs) == [0, 1, 1, nil])
        // What a kill loses at 2000: fa1 runs two 1-CPU jobs (1000 + 500 s); fa2 and fa3 each carry the whole
        // 2-CPU job 3 (2 × 800), since killing either requeues it.
        #expect(a.nodes.map(\.workAtRisk) == [1500, 1600, 1600, nil])
        // The fixture of a real Slurm: every running job dated, none requeued.
        let real = try SlurmParser.jobs(fromSqueue: fixture("squeue-two-groups")).filter(\.isActive)
        #expect(!real.isEmpty && real.allSatisfy { $0.startTime != nil && $0.restarts == 0 })
    }

    @Test func theHeadJobIsTheFirstInSlurmsOrder() throws {
        let state = SlurmState(
            time: 500,
            jobs: [
                SlurmJob(id: 7, state: "PENDING", partitions: ["dynA"], cpus: 2, submitTime: 10, priority: 100),
                SlurmJob(id: 8, state: "PENDING", partitions: ["dynA"], cpus: 16, submitTime: 20, priority: 300),
                SlurmJob(id: 9, state: "PENDING", partitions: ["dynA"], cpus: 8, submitTime: 5, priority: 300),
                SlurmJob(
                    id: 10, state: "PENDING", stateReason: "JobHeldUser", partitions: ["dynA"], cpus: 64,
                    submitTime: 1, priority: 900),
                SlurmJob(id: 11, state: "RUNNING", partitions: ["dynB"], cpus: 32, nodes: ["fb1"], priority: 900),
            ],
            nodes: [])
        let snapshot = try SlurmGroups(fixtureMappings).snapshot(of: state)
        // Highest priority first, then the earlier submission; a held job is not waiting to start.
        #expect(snapshot[group: "a"]?.headJobCPUs == 8)
        #expect(snapshot[group: "b"]?.headJobCPUs == 0)
    }

    @Test func theFixturesJobsWithoutATimeLimitHaveNoEnd() throws {
        let jobs = try SlurmParser.jobs(fromSqueue: fixture("squeue-two-groups"))
        #expect(jobs.filter(\.isActive).allSatisfy { $0.endTime == nil })
        let state = SlurmState(
            time: fixtureNow, jobs: jobs, nodes: try SlurmParser.nodes(fromSinfo: fixture("sinfo-two-groups")))
        #expect(try SlurmGroups(fixtureMappings).snapshot(of: state)[group: "a"]?.headJobCPUs == 1)
    }
}
