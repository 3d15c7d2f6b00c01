import Foundation
import Testing

@testable import VEMSlurm

@Suite struct ParserTests {
    @Test func emptyQueueAndNoNodes() throws {
        #expect(try SlurmParser.jobs(fromSqueue: fixture("squeue-empty")).isEmpty)
        #expect(try SlurmParser.nodes(fromSinfo: fixture("sinfo-empty")).isEmpty)
        // FUTURE nodes made by `scontrol create` are hidden by sinfo until their slurmd registers.
        #expect(try SlurmParser.nodes(fromSinfo: fixture("sinfo-future")).isEmpty)
    }

    @Test func pendingAndRunningJobsOfTwoPartitions() throws {
        let jobs = try SlurmParser.jobs(fromSqueue: fixture("squeue-two-groups"))
        #expect(jobs.map(\.id) == [1, 2, 3, 4])
        #expect(jobs.map(\.state) == ["RUNNING", "RUNNING", "PENDING", "PENDING"])
        #expect(jobs.map(\.partitions) == [["dynA"], ["dynB"], ["dynB"], ["dynA"]])
        #expect(jobs.map(\.nodes) == [["fa1"], ["fb1"], [], []])
        #expect(jobs.map(\.memoryMB) == [100, 100, 200, 50])
        #expect(jobs.map(\.cpus) == [1, 1, 1, 1])
        #expect(jobs[3].constraint == "groupA")
        #expect(jobs[3].account == "atlas")
        #expect(jobs[3].name == "jobA2")
        #expect(jobs[2].stateReason == "Resources")
        #expect(jobs[0].submitTime == 1_795_941_774)
        #expect(jobs.allSatisfy { $0.count == 1 })
    }

    @Test func drainingAndDrainedDynamicNodes() throws {
        let draining = try SlurmParser.nodes(fromSinfo: fixture("sinfo-draining"))
        #expect(draining.map(\.name) == ["fa1", "fb1"])
        #expect(draining[0].state == "allocated")
        #expect(draining[0].stateFlags == ["DRAIN", "DYNAMIC_NORM"])
        #expect(draining[0].isDynamic)
        #expect(draining[0].features == ["groupA"])
        #expect(draining[0].partitions == ["dynA"])
        #expect(draining[0].address == "10.77.201.2")
        #expect(draining[0].reason == "vem test")
        #expect(draining[0].cpus == 1 && draining[0].allocatedCPUs == 1)
        #expect(draining[0].memoryMB == 1000 && draining[0].allocatedMemoryMB == 100)
        let drained = try SlurmParser.nodes(fromSinfo: fixture("sinfo-drained"))
        #expect(drained.map(\.name) == ["fb1"])
        #expect(drained[0].state == "idle" && drained[0].stateFlags.contains("DRAIN"))
        #expect(drained[0].reason == "vem: surplus")
    }

    @Test func controllerDownIsAnErrorEvenWithExitStatusZero() throws {
        // Captured with slurmctld stopped: squeue and sinfo exit 0 and print an `errors` array.
        let q = #expect(throws: SlurmError.self) { try SlurmParser.jobs(fromSqueue: fixture("squeue-controller-down")) }
        #expect(q?.code == .slurmReported)
        #expect(q?.message.contains("slurm_load_jobs") == true)
        #expect(q?.message.contains("slurmctld") == true)
        let i = #expect(throws: SlurmError.self) { try SlurmParser.nodes(fromSinfo: fixture("sinfo-controller-down")) }
        #expect(i?.code == .slurmReported)
    }

    @Test(arguments: [
        "", "not json", "{", "[]", "{\"jobs\": 5}", "{\"jobs\": [{\"name\": \"x\"}]}",
        "{\"jobs\": [{\"job_id\": \"seven\"}]}", "{\"jobs\": [{\"job_id\": 1, \"nodes\": \"a[1-\"}]}",
        "{\"meta\": {}, \"errors\": []}",
    ])
    func malformedSqueueIsAClearError(text: String) {
        let error = #expect(throws: SlurmError.self) { try SlurmParser.jobs(fromSqueue: Data(text.utf8)) }
        #expect(error?.code == .malformedOutput)
        #expect(error?.message.hasPrefix("squeue") == true || error?.message.contains("node list") == true)
    }

    @Test(arguments: ["", "{\"nodes\": {}}", "{\"nodes\": [{\"state\": \"idle\"}]}", "{\"nodes\": [{\"name\": 3}]}"])
    func malformedSinfoIsAClearError(text: String) {
        let error = #expect(throws: SlurmError.self) { try SlurmParser.nodes(fromSinfo: Data(text.utf8)) }
        #expect(error?.code == .malformedOutput)
    }

    @Test func unknownFieldsAreIgnoredAndNumbersReadLeniently() throws {
        let text = """
            {"future_top": {"x": [1, 2]}, "errors": [], "jobs": [
              {"job_id": {"set": true, "infinite": false, "number": 42}, "job_state": "pending", "brand_new": true,
               "cpus": 4.0, "memory_per_cpu": {"set": true, "number": 256}, "memory_per_node": null,
               "partition": "a,b", "array_job_id": 42, "array_task_string": "0-9%2", "submit_time": null}
            ]}
            """
        let jobs = try SlurmParser.jobs(fromSqueue: Data(text.utf8))
        #expect(jobs.count == 1)
        #expect(jobs[0].id == 42)
        #expect(jobs[0].state == "PENDING")
        #expect(jobs[0].cpus == 4)
        #expect(jobs[0].memoryMB == 1024)
        #expect(jobs[0].partitions == ["a", "b"])
        #expect(jobs[0].count == 10)
        #expect(jobs[0].submitTime == 0)
    }

    @Test func heldJobsAreNotPendingDemand() {
        let held = SlurmJob(id: 1, state: "PENDING", stateReason: "JobHeldUser")
        let waiting = SlurmJob(id: 2, state: "PENDING", stateReason: "Priority")
        #expect(!held.isPending && waiting.isPending)
        #expect(SlurmJob(id: 3, state: "COMPLETING").isActive)
        #expect(!SlurmJob(id: 4, state: "COMPLETED").isActive)
    }

    @Test func constraintFeatures() {
        #expect(
            SlurmJob(id: 1, state: "PENDING", constraint: "atlas&(ib|gpu*2)").constraintFeatures == [
                "atlas", "ib", "gpu",
            ])
    }
}

@Suite struct HostlistTests {
    @Test(arguments: [
        ("", [String]()), ("fa1", ["fa1"]), ("fa1,fb1", ["fa1", "fb1"]), ("n[1-3]", ["n1", "n2", "n3"]),
        ("n[08-10,12]", ["n08", "n09", "n10", "n12"]), ("a[1-2]b[3-4]", ["a1b3", "a1b4", "a2b3", "a2b4"]),
        ("x[1-2]-ib,y", ["x1-ib", "x2-ib", "y"]),
    ])
    func expands(list: String, names: [String]) throws {
        #expect(try Hostlist.expand(list) == names)
    }

    @Test(arguments: ["n[1-", "n]1", "n[[1]]", "n[3-1]", "n[a-b]", "n[1-999999999]"])
    func rejects(list: String) {
        #expect(throws: SlurmError.self) { try Hostlist.expand(list) }
    }

    @Test func arrayTaskCounts() {
        #expect(Hostlist.arrayTaskCount("0-9%2") == 10)
        #expect(Hostlist.arrayTaskCount("1,3,5-11:2") == 6)
        #expect(Hostlist.arrayTaskCount("7") == 1)
        #expect(Hostlist.arrayTaskCount("x") == nil)
        #expect(Hostlist.arrayTaskCount("5-1") == nil)
    }
}
