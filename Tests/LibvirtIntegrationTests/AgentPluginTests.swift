import Foundation
import Testing
import VEMAgent
import VEMHypervisorPlugins
import VEMLibvirt

/// The `vm.*` command plugins and the `hypervisor` property, driven through VEMAgent's Runner and
/// registry against a `test:///` host.
@Suite struct AgentPluginTests {
    struct Agent {
        let host: HypervisorHost
        let runner: Runner
        let registry: PluginRegistry
    }

    func makeAgent(uri: String) throws -> Agent {
        let template = try DomainTemplate(testDriverTemplate, origin: "groups.xml")
        var config = HypervisorHost.Configuration(
            uri: uri,
            groups: [
                "atlas": GroupVMDefinition(template: template, memoryMiB: 1024, vcpus: 2),
                "cms": GroupVMDefinition(template: template, memoryMiB: 512, vcpus: 1),
            ], manager: "10.1.1.1:7070")
        config.shutdownTimeout = .seconds(5)
        let host = HypervisorHost(configuration: config)
        var registry = PluginRegistry.builtin()
        try HypervisorPlugins.register(into: &registry, host: host)
        let runner = Runner(registry: registry, allowlist: Allowlist(commands: HypervisorPlugins.commandNames))
        return Agent(host: host, runner: runner, registry: registry)
    }

    func json(_ outcome: PluginOutcome) throws -> PropertyValue {
        try JSONDecoder().decode(PropertyValue.self, from: Data(outcome.output.utf8))
    }

    @Test func createListMigrateDestroyThroughTheRunner() async throws {
        try await withScratch("agent") { dir in
            let agent = try makeAgent(uri: try writeTestHost(dir, cpus: 8))
            let runner = agent.runner
            #expect(agent.registry.commandPluginNames.contains("vm.create"))

            let c1 = await runner.execute(
                CommandRequest(sequence: 1, name: "vm.create", options: ["group": "atlas", "vm": "atlas-1"]))
            #expect(c1.status == .ok, "\(c1.error ?? "")")
            guard case .object(let created) = try json(c1) else {
                Issue.record("not an object: \(c1.output)")
                return
            }
            #expect(created["name"] == .string("atlas-1"))
            #expect(created["state"] == .string("running"))
            #expect(created["command"] == .string("1"))
            #expect(created["memory_kib"] == .int(1024 * 1024))

            let c2 = await runner.execute(
                CommandRequest(
                    sequence: 2, name: "vm.create",
                    options: ["group": "cms", "vm": "cms-9", "name": "cms-vm-9", "vcpus": 3, "command": "c-77"]))
            #expect(c2.status == .ok, "\(c2.error ?? "")")

            // vm.list reads VEM's metadata back from libvirt; the preexisting domain is not VEM's.
            let list = await runner.execute(CommandRequest(sequence: 3, name: "vm.list"))
            #expect(list.status == .ok)
            guard case .array(let vms) = try json(list) else {
                Issue.record("not an array: \(list.output)")
                return
            }
            let byName = Dictionary(
                uniqueKeysWithValues: vms.compactMap { v -> (String, [String: PropertyValue])? in
                    guard case .object(let o) = v, case .string(let n)? = o["name"] else { return nil }
                    return (n, o)
                })
            #expect(byName.keys.sorted() == ["atlas-1", "cms-vm-9"])
            #expect(byName["cms-vm-9"]?["group"] == .string("cms"))
            #expect(byName["cms-vm-9"]?["vm"] == .string("cms-9"))
            #expect(byName["cms-vm-9"]?["command"] == .string("c-77"))
            #expect(byName["cms-vm-9"]?["vcpus"] == .int(3))
            let all = await runner.execute(CommandRequest(sequence: 4, name: "vm.list", options: ["all": true]))
            #expect(all.output.contains("\"preexisting\""))

            // The hypervisor property: 8 CPUs − (2 preexisting + 2 + 3) = 1 free vCPU.
            let prop = await agent.registry.read(
                PropertyRequest(name: "hv", plugin: "hypervisor", returnType: .json), now: 0)
            guard case .object(let hv)? = prop.value else {
                Issue.record("\(prop)")
                return
            }
            #expect(hv["free_vcpus"] == .int(1))
            #expect(hv["cpus"] == .int(8))
            #expect(hv["domains_per_group"] == .object(["atlas": .int(1), "cms": .int(1)]))
            let free = await agent.registry.read(
                PropertyRequest(name: "vcpus_free", plugin: "hypervisor", parameters: ["free_vcpus"], returnType: .int),
                now: 0)
            #expect(free == .success(.int(1)))
            let wrong = await agent.registry.read(
                PropertyRequest(name: "x", plugin: "hypervisor", parameters: ["free_cpus"], returnType: .int), now: 0)
            #expect(wrong.error?.code == .badParameters)

            // Migration: a Dom0 refuses any destination but a plain qemu+ssh/qemu+tls host (a test:/// file here).
            let other = try writeTestHost(dir, name: "other.xml", preexisting: nil)
            let m = await runner.execute(
                CommandRequest(sequence: 5, name: "vm.migrate", options: ["vm": "atlas-1", "to": "\(other)"]))
            #expect(m.status == .failed)
            #expect(m.error?.hasPrefix("not_allowed: vm.migrate: destination refused") == true, "\(m.error ?? "")")

            let d1 = await runner.execute(CommandRequest(sequence: 6, name: "vm.destroy", options: ["vm": "atlas-1"]))
            #expect(d1.status == .ok, "\(d1.error ?? "")")
            #expect(try json(d1) == .object(["name": .string("atlas-1"), "shutdown": .string("graceful")]))
            let d2 = await runner.execute(
                CommandRequest(sequence: 7, name: "vm.destroy", options: ["name": "cms-vm-9", "shutdown_timeout": 0]))
            #expect(d2.status == .ok, "\(d2.error ?? "")")
            let after = await runner.execute(CommandRequest(sequence: 8, name: "vm.list", options: ["all": true]))
            guard case .array(let left) = try json(after) else {
                Issue.record("\(after.output)")
                return
            }
            #expect(left.count == 1)
            #expect(after.output.contains("\"preexisting\""))
            await agent.host.close()
        }
    }

    @Test func badCommandsAreClearErrorsAndLeaveNothingBehind() async throws {
        try await withScratch("agent-bad") { dir in
            let agent = try makeAgent(uri: try writeTestHost(dir))
            let runner = agent.runner
            var seq: UInt64 = 0
            func run(_ name: String, _ args: [String: PropertyValue]) async -> PluginOutcome {
                seq += 1
                return await runner.execute(CommandRequest(sequence: seq, name: name, options: args))
            }
            let unknownGroup = await run("vm.create", ["group": "alice", "vm": "a-1"])
            #expect(unknownGroup.status == .failed)
            #expect(
                unknownGroup.error
                    == "not_found: vm.create: no VM definition for group 'alice' on this host (known: atlas, cms)")
            let missingVM = await run("vm.create", ["group": "atlas"])
            #expect(missingVM.error == "bad_parameters: vm.create: missing argument 'vm'")
            seq += 1
            let words = await runner.execute(CommandRequest(sequence: seq, name: "vm.list", arguments: ["all=yes"]))
            #expect(words.error?.contains("takes named arguments only") == true)  // no key=value words
            let unknown = await run("vm.list", ["every": true])
            #expect(unknown.status == .refused && unknown.error?.contains("unknown named argument 'every'") == true)
            let exists = await run("vm.create", ["group": "atlas", "vm": "preexisting"])
            #expect(exists.status == .failed)
            #expect(
                exists.error?.hasPrefix("libvirt.domain_exists: vm.create: a domain named 'preexisting' already exists")
                    == true)
            let badUUID = await run("vm.create", ["group": "atlas", "vm": "a-2", "uuid": "xyz"])
            #expect(badUUID.error?.hasPrefix("libvirt.bad_argument") == true)
            let notVEM = await run("vm.destroy", ["name": "preexisting"])
            #expect(notVEM.status == .failed)
            #expect(
                notVEM.error == "not_allowed: vm.destroy: domain 'preexisting' was not created by VEM; not touching it")
            let noSuchVM = await run("vm.migrate", ["vm": "ghost", "to": "qemu+ssh://h2/system"])
            #expect(noSuchVM.error == "not_found: vm.migrate: no VEM domain with vm id 'ghost' on this host")
            // The probe of the security review: a URI whose query string makes libvirt run a program, and others
            // that reach libvirt options through the URI; a Dom0 refuses them whatever the Manager says.
            let marker = dir.appendingPathComponent("ran").path
            let script = dir.appendingPathComponent("evil.sh")
            try "#!/bin/sh\ntouch \(marker)\n".write(to: script, atomically: true, encoding: .utf8)
            chmod(script.path, 0o755)
            for escape in [
                "qemu+ext:///system?command=\(script.path)", "qemu+ssh://evil:2222/system?no_verify=1&x=",
                "qemu+ssh://h2/system?keyfile=/root/.ssh/id_rsa", "qemu+unix:///system?socket=/tmp/s",
                "qemu+ssh://h2/system#x", "qemu+tcp://h2/system", "test:///default",
            ] {
                let refused = await run("vm.migrate", ["vm": "ghost", "to": .string(escape)])
                #expect(refused.status == .failed)
                #expect(refused.error?.hasPrefix("not_allowed: vm.migrate: destination refused") == true, "\(escape)")
            }
            #expect(!FileManager.default.fileExists(atPath: marker))
            let badData = await run("vm.migrate", ["vm": "ghost", "to": "qemu+ssh://h2/system", "migrate_uri": "unix:///tmp/x"])
            #expect(badData.error == "not_allowed: vm.migrate: migrate_uri must be tcp://host[:port]")
            let list = await run("vm.list", ["all": true])
            guard case .array(let left) = try json(list) else {
                Issue.record("\(list.output)")
                return
            }
            #expect(left.count == 1)
            await agent.host.close()
        }
    }

    @Test func unreachableHypervisorIsAFailedOutcome() async throws {
        try await withScratch("agent-down") { dir in
            let agent = try makeAgent(uri: "qemu+unix:///system?socket=\(dir.path)/absent-sock")
            let out = await agent.runner.execute(CommandRequest(sequence: 1, name: "vm.list"))
            #expect(out.status == .failed)
            #expect(out.error?.hasPrefix("libvirt.connection_failed: vm.list:") == true, "\(out.error ?? "")")
            let prop = await agent.registry.read(
                PropertyRequest(name: "hv", plugin: "hypervisor", returnType: .json), now: 0)
            #expect(prop.error?.code.rawValue == "libvirt.connection_failed")
        }
    }
}
