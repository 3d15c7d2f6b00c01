import Foundation
import Testing
import VEMAgent
import VEMBatch

@testable import VEMSlurm

@Suite struct PluginTests {
    func registry(_ executor: FakeExecutor) throws -> PluginRegistry {
        var r = PluginRegistry()
        let batch = SlurmBatch(
            groups: try SlurmGroups(
                fixtureMappings.map {
                    var m = $0
                    m.feature = m.group == "a" ? "groupA" : "groupB"
                    return m
                }),
            executor: executor, addressOf: { _ in throw SlurmError(.invalidArgument, "no DNS here") },
            now: { fixtureNow })
        try SlurmPlugins.register(into: &r, batch: batch)
        return r
    }

    @Test func pluginsAreRegistered() throws {
        let r = try registry(try FakeExecutor.cluster())
        #expect(r.propertyPluginNames == ["slurm.demand", "slurm.nodes"])
        #expect(r.commandPluginNames == ["slurm.down", "slurm.drain", "slurm.register", "slurm.remove", "slurm.resume"])
        var again = r
        #expect(throws: AgentError.self) {
            try SlurmPlugins.register(into: &again, batch: SlurmBatch(groups: try SlurmGroups(fixtureMappings)))
        }
    }

    @Test func demandIsJSON() async throws {
        let r = try registry(try FakeExecutor.cluster())
        let result = await r.read(PropertyRequest(name: "demand", plugin: "slurm.demand", returnType: .json), now: 0)
        guard case .object(let o) = try #require(result.value) else {
            Issue.record("not an object: \(result)")
            return
        }
        #expect(o["time"] == .int(Int64(fixtureNow)))
        guard case .array(let groups) = o["groups"] else {
            Issue.record("no groups")
            return
        }
        try #require(groups.count == 2)
        guard case .object(let b) = groups[1] else {
            Issue.record("group b is not an object: \(groups[1])")
            return
        }
        #expect(b["group"] == .string("b"))
        #expect(b["pendingJobs"] == .int(1))
        #expect(b["pendingMemoryMB"] == .int(200))
        let filtered = await r.read(
            PropertyRequest(name: "d", plugin: "slurm.demand", parameters: ["a"], returnType: .json), now: 0)
        #expect(filtered.value?.jsonText.contains("\"group\":\"b\"") == false)
        let bad = await r.read(
            PropertyRequest(name: "d", plugin: "slurm.demand", parameters: ["zz"], returnType: .json), now: 0)
        #expect(bad.error?.code == .badParameters)
    }

    @Test func nodesIsJSON() async throws {
        let r = try registry(try FakeExecutor.cluster(squeue: "squeue-draining", sinfo: "sinfo-draining"))
        let result = await r.read(PropertyRequest(name: "n", plugin: "slurm.nodes", returnType: .json), now: 0)
        guard case .array(let nodes) = try #require(result.value), case .object(let first) = nodes.first else {
            Issue.record("not an array: \(result)")
            return
        }
        #expect(nodes.count == 2)
        #expect(first["name"] == .string("fa1"))
        #expect(first["state"] == .string("draining"))
        #expect(first["group"] == .string("a"))
        #expect(first["slurmState"] == .string("ALLOCATED+DRAIN+DYNAMIC_NORM"))
    }

    @Test func propertyTimeoutIsATimeoutFailure() async throws {
        let r = try registry(FakeExecutor { c in throw SlurmError(.timeout, "\(c.program) did not answer within 1 s") })
        let result = await r.read(PropertyRequest(name: "d", plugin: "slurm.demand", returnType: .json), now: 0)
        #expect(result.error?.code == .timeout)
    }

    @Test func commands() async throws {
        let table = FakeNodeTable()
        let executor = try table.executor()
        let r = try registry(executor)
        let context = CommandContext(now: 0, timeout: .seconds(5))
        func run(_ name: String, _ args: [String]) async throws -> PluginOutcome {
            try await #require(r.commandPlugin(named: name)).run(
                CommandRequest(sequence: 1, name: name, arguments: args), context: context)
        }
        let registered = try await run("slurm.register", ["b2", "b", "1", "1000", "10.77.3.2"])
        #expect(registered.status == .ok)
        #expect(registered.output.contains("\"address\":\"10.77.3.2\""))
        #expect(registered.output.contains("\"feature\":\"groupB\""))
        #expect(registered.output.contains("\"adopted\":false"))
        // Registered again (its reply lost, say): the node is adopted, not refused, and not created twice.
        let again = try await run("slurm.register", ["b2", "b", "1", "1000", "10.77.3.2"])
        #expect(again.status == .ok, "\(again.error ?? "")")
        #expect(again.output.contains("\"adopted\":true"))
        #expect(executor.commands.filter { $0.arguments.first == "create" }.count == 1)
        // A name taken by group a's node is refused, saying so.
        let taken = try await run("slurm.register", ["b2", "a", "1", "1000", "10.77.3.2"])
        #expect(taken.status == .failed)
        #expect(taken.error?.contains("with features 'groupB' (group 'b'), not group 'a''s feature 'groupA'") == true)
        #expect(try await run("slurm.drain", ["b2", "vem:", "surplus"]).output == "drained b2")
        #expect(executor.commands.last?.arguments.last == "Reason=vem: surplus")
        #expect(try await run("slurm.resume", ["b2"]).status == .ok)
        #expect(try await run("slurm.remove", ["b2"]).output == "removed b2")
        // Bad arguments never reach scontrol.
        let count = executor.commands.count
        for (name, args) in [
            ("slurm.register", ["b2", "b", "one", "1000"]), ("slurm.register", ["b2", "b", "1", "1000"]),
            ("slurm.drain", ["b2"]), ("slurm.remove", ["b2;reboot"]), ("slurm.resume", []),
        ] {
            let outcome = try await run(name, args)
            #expect(outcome.status == .failed, "\(name) \(args)")
            #expect(outcome.error?.isEmpty == false)
        }
        #expect(executor.commands.count == count)
    }

    @Test func commandTimeoutIsATimeoutOutcome() async throws {
        let r = try registry(FakeExecutor { c in throw SlurmError(.timeout, "scontrol did not answer within 1 s") })
        let outcome = await r.commandPlugin(named: "slurm.drain")?.run(
            CommandRequest(sequence: 1, name: "slurm.drain", arguments: ["b1", "x"]),
            context: CommandContext(now: 0, timeout: .seconds(1)))
        #expect(outcome?.status == .timeout)
        #expect(outcome?.error?.contains("did not answer") == true)
    }
}
