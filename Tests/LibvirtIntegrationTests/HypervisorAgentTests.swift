import Foundation
import Testing
import VEMTestSupport
import VEMAgent
import VEMProtocol

/// A real `vem agent` with `hypervisor = test:///…` driven by a Manager (a hub server in the test process)
/// through the bus: vm.create, vm.list, vm.destroy, the `hypervisor` property and vm.lifecycle events.
@Suite struct HypervisorAgentTests {
    @Test(.timeLimit(.minutes(2)))
    func theManagerCreatesListsAndDestroysAVMThroughTheBus() async throws {
        try await withScratch("hv-agent") { dir in
            let started = ContinuousClock.now
            let uri = try writeTestHost(dir)
            try testDriverTemplate.write(
                to: dir.appendingPathComponent("atlas.xml"), atomically: true, encoding: .utf8)
            let manager = try await ManagerHarness(token: "t0k3n")
            let config = dir.appendingPathComponent("agent.ini").path
            // A relative template path: taken from the configuration file's directory.
            try hypervisorAgentConfig(name: "hv-1", port: manager.port, uri: uri, template: "atlas.xml")
                .write(toFile: config, atomically: true, encoding: .utf8)
            let agent = try await AgentProcess.start(config: config, logPath: dir.appendingPathComponent("log").path)
            defer { if agent.status == nil { kill(agent.pid, SIGKILL) } }  // not reaped: the PID is still ours
            do {
                try await scenario(manager: manager, uri: uri, dir: dir)
            } catch {
                print("--- agent log:\n\(agent.log)")
                await agent.stop()
                await manager.shutdown()
                throw error
            }
            await agent.stop()
            await manager.shutdown()
            print("hypervisor agent (test driver): \(seconds(since: started))")
        }
    }

    private func scenario(manager: ManagerHarness, uri: String, dir: URL) async throws {
        try await eventually("the agent's join", timeout: .seconds(60)) { manager.joined("hv-1") }

        // The hypervisor property reads the host.
        let round = await manager.server.collectProperties(["hv_uri"], from: .all, timeout: .seconds(30))
        let reading = try #require(round.replies["hv-1"]?.readings.first { $0.name == "hv_uri" })
        #expect(reading.outcome == .value(.string(uri)))

        let created = try await manager.run("vm.create", ["group": "atlas", "vm": "atlas-7"], on: "hv-1")
        #expect(created.status == .ok, "\(created.error ?? "")")
        #expect(created.output.contains("\"name\":\"atlas-7\""), "\(created.output)")

        // The review's probe through the bus: a destination whose query string makes libvirt run a program as
        // root. The Dom0 refuses it, whatever the Manager says; the program never runs.
        let marker = dir.appendingPathComponent("ran").path
        let script = dir.appendingPathComponent("evil.sh")
        try "#!/bin/sh\ntouch \(marker)\n".write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        let escape = try await manager.run(
            "vm.migrate", ["vm": "atlas-7", "to": .string("qemu+ext:///system?command=\(script.path)")], on: "hv-1")
        #expect(escape.status == .failed)
        #expect(escape.error?.hasPrefix("not_allowed: vm.migrate: destination refused") == true, "\(escape.error ?? "")")
        #expect(!FileManager.default.fileExists(atPath: marker))

        let listed = try vmList(try await manager.run("vm.list", [:], on: "hv-1"))
        let vm = try #require(listed["atlas-7"], "vm.list: \(listed.keys.sorted())")
        #expect(vm["group"] == .string("atlas"))
        #expect(vm["vm"] == .string("atlas-7"))
        #expect(vm["state"] == .string("running"))
        #expect(listed["preexisting"] == nil, "vm.list shows only VEM's domains")

        // The start reaches the Manager as a vm.lifecycle event naming VEM's group and VM id.
        try await eventually("the started event", timeout: .seconds(30)) {
            manager.clientEvents(from: "hv-1").contains {
                $0.kind == "vm.lifecycle" && $0.string("domain") == "atlas-7" && $0.string("event") == "started"
                    && $0.string("group") == "atlas" && $0.string("vm") == "atlas-7"
            }
        }

        // A group without a definition is refused with the known groups named.
        let unknown = try await manager.run("vm.create", ["group": "cms", "vm": "cms-1"], on: "hv-1")
        #expect(unknown.status != .ok)
        #expect(unknown.error?.contains("no VM definition for group 'cms'") == true, "\(unknown.error ?? "")")

        let destroyed = try await manager.run("vm.destroy", ["vm": "atlas-7", "shutdown_timeout": 5], on: "hv-1")
        #expect(destroyed.status == .ok, "\(destroyed.error ?? "")")
        let after = try vmList(try await manager.run("vm.list", [:], on: "hv-1"))
        #expect(after["atlas-7"] == nil, "still listed: \(after.keys.sorted())")
        try await eventually("the undefined event", timeout: .seconds(30)) {
            manager.clientEvents(from: "hv-1").contains {
                $0.string("domain") == "atlas-7" && $0.string("event") == "undefined" && $0.string("vm") == "atlas-7"
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aBadTemplateStopsTheAgentAtStartWithFileLineColumn() async throws {
        try await withScratch("hv-agent-bad") { dir in
            let uri = try writeTestHost(dir)
            let template = dir.appendingPathComponent("atlas.xml").path
            try "<domain type='test'>\n  <name>{{nmae}}</name>\n</domain>\n".write(
                toFile: template, atomically: true, encoding: .utf8)
            let config = dir.appendingPathComponent("agent.ini").path
            // No Manager is needed: the agent stops before it connects (port 9 is never dialled).
            try hypervisorAgentConfig(name: "hv-bad", port: 9, uri: uri, template: template)
                .write(toFile: config, atomically: true, encoding: .utf8)
            let agent = try await AgentProcess.start(config: config, logPath: dir.appendingPathComponent("log").path)
            let status = await agent.waitForExit(seconds: 30)
            if status == nil { await agent.stop() }
            #expect(status == 1)
            #expect(agent.log.contains("\(template):2:9: error: unknown placeholder '{{nmae}}'"), "\(agent.log)")

            let missing = dir.appendingPathComponent("missing.ini").path
            try hypervisorAgentConfig(name: "hv-bad", port: 9, uri: uri, template: "nowhere/atlas.xml")
                .write(toFile: missing, atomically: true, encoding: .utf8)
            let agent2 = try await AgentProcess.start(config: missing, logPath: dir.appendingPathComponent("log2").path)
            let status2 = await agent2.waitForExit(seconds: 30)
            if status2 == nil { await agent2.stop() }
            #expect(status2 == 1)
            #expect(agent2.log.contains("cannot read the template file '\(dir.path)/nowhere/atlas.xml'"), "\(agent2.log)")
            #expect(agent2.log.contains("missing.ini:15:1: error: group 'atlas'"), "\(agent2.log)")
        }
    }
}
