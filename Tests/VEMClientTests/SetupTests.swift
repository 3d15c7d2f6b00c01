import Foundation
import Testing
import VEMNATS
import VEMAgent
import VEMBus
import VEMConfig
import VEMProtocol
import VEMCore
import VEMHypervisorPlugins

@testable import VEMClient
@testable import VEMClientCore

@Suite("Client: configuration, identity and mappings")
struct SetupTests {
    func settings(_ text: String) throws -> ClientSettings {
        let loader = ClientConfigurationLoader(paths: ["agent.ini"], readFile: { _ in Array(text.utf8) })
        return try loader.load().configuration.settings
    }

    @Test("a broken file is reported as file:line:col with the line and a caret")
    func brokenConfiguration() throws {
        let text = "[client]\nname = n1\n\n[ram_free]\ncommand = ram\nticks = soon\n"
        let loader = ClientConfigurationLoader(paths: ["agent.ini"], readFile: { _ in Array(text.utf8) })
        #expect {
            try loader.load()
        } throws: { error in
            let e = error as? ClientError
            return e?.code == .configuration
                && e?.message.contains("agent.ini:6:9: error: invalid value 'soon'") == true
                && e?.message.contains("    ticks = soon\n            ^~~~") == true
        }
        let missing = ClientConfigurationLoader(paths: ["nope.ini"], readFile: { _ in nil })
        #expect(throws: ClientError.self) { try missing.load() }
    }

    @Test("a dom0 is named after its host unless configured")
    func dom0Identity() throws {
        let resolver = ClientIdentityResolver(root: try fixture("host").path, hostName: "node07")
        let id = try resolver.resolve(try settings("[client]\n"), version: "1.0.0", incarnation: 9)
        #expect(id.name == "node07" && id.host == "node07" && id.role == .dom0 && id.group == nil && id.vmID == nil)
        #expect(id.incarnation == 9)
        let named = try resolver.resolve(
            try settings("[client]\nname = a\nrole = batch\n"), version: "1.0.0", incarnation: 1)
        #expect(named.name == "a" && named.role == .batch)
    }

    @Test("a domU learns its VM id, group and name from the kernel command line")
    func domUFromCmdline() throws {
        let resolver = ClientIdentityResolver(root: try fixture("domu-cmdline").path, hostName: "localhost")
        // The configuration's group wins; the rest comes from /proc/cmdline.
        let id = try resolver.resolve(
            try settings("[client]\nrole = domU\ngroup = atlas\n"), version: "1", incarnation: 1)
        #expect(id.vmID == "atlas-vm-12" && id.group == "atlas" && id.name == "atlas-vm-12.site" && id.host == "node07")
        #expect(id.role == .domU)
    }

    @Test("a domU falls back to SMBIOS serial tokens, OEM strings and the system UUID")
    func domUFromSMBIOS() throws {
        // ConfigLoader insists on 'group' for a domU, so the group-less case goes through settings built in code.
        var s = ClientSettings()
        s.role = .domU
        let serial = try ClientIdentityResolver(root: try fixture("domu-smbios").path, hostName: "h").resolve(
            s, version: "1", incarnation: 1)
        #expect(serial.group == "cms" && serial.vmID == "cms-vm-3" && serial.name == "h")
        let oem = try ClientIdentityResolver(root: try fixture("domu-oem").path, hostName: "h").resolve(
            s, version: "1", incarnation: 1)
        #expect(oem.group == "lhcb" && oem.name == "lhcb-vm-1" && oem.vmID == "0b5b3c4e-9c3a-4d0b-9f00-2f5a1c7e6d10")
        #expect(throws: ClientError.self) {
            try ClientIdentityResolver(root: try fixture("host").path, hostName: "h").resolve(
                s, version: "1", incarnation: 1)
        }
    }

    @Test("tokens: first occurrence wins, quotes are dropped, other words ignored")
    func tokens() {
        let t = ClientIdentityResolver.tokens(in: "ro vem.vm=\"a b\" vem.vm=x vem.group= vem.name=n quiet=1\n")
        #expect(t == ["vem.vm": "\"a", "vem.name": "n"])
        #expect(ClientIdentityResolver.smbiosStrings([11, 5, 0, 0, 1, 65, 0, 0]) == ["A"])
        #expect(ClientIdentityResolver.smbiosStrings([11, 200]) == [])
    }

    @Test("incarnations differ between process starts")
    func incarnations() {
        let values = Set((0..<100).map { _ in ClientIdentityResolver.newIncarnation() })
        #expect(values.count == 100 && !values.contains(0))
    }

    @Test("an incarnation prints the same unsigned (logs) and signed (journal, snapshot JSON)")
    func incarnationsFitInt64() {
        for _ in 0..<1000 {
            let value = ClientIdentityResolver.newIncarnation()
            #expect(String(value) == String(Int64(truncatingIfNeeded: value)))
        }
    }

    @Test("token from token_file; bus = nats needs a site and a readable password file")
    func tokenAndBus() throws {
        var s = ClientSettings()
        s.tokenFile = "/etc/vem/token"
        #expect(try HubTransport.token(s, readFile: { _ in Array("s3cret\n".utf8) }) == "s3cret")
        #expect(throws: ClientError.self) { try HubTransport.token(s, readFile: { _ in nil }) }
        #expect(throws: ClientError.self) { try HubTransport.token(s, readFile: { _ in Array(" \n".utf8) }) }
        s.bus = .nats
        let id = ClientIdentity(name: "n", role: .dom0, host: "h", version: "1.0.0", incarnation: 1)
        let handlers = ClientHandlers(execute: { .init(seq: $0.seq, status: .ok) })
        #expect {
            _ = try ClientTransport.make(identity: id, token: "", settings: s, handlers: handlers)
        } throws: { error in
            (error as? ClientError)?.code == .busUnavailable && "\(error)".contains("needs 'site'")
        }
        s.nats.site = "pg"
        s.nats.passwordFile = "/etc/vem/nats.pw"
        #expect {
            _ = try ClientTransport.make(identity: id, token: "", settings: s, handlers: handlers, readFile: { _ in nil })
        } throws: { error in
            (error as? ClientError)?.code == .busUnavailable && "\(error)".contains("cannot read nats_password_file")
        }
        // Made, not connected (run() connects).
        let bus = try ClientTransport.make(
            identity: id, token: "", settings: s, handlers: handlers, readFile: { _ in Array("pw\n".utf8) })
        #expect(bus is NATSClient)
    }

    @Test("a guest's agent (hub only) refuses NATS and a hypervisor at start; a host's builds both")
    func hosting() throws {
        func configuration(_ text: String) throws -> ClientConfiguration {
            try ClientConfigurationLoader(paths: ["agent.ini"], readFile: { _ in Array(text.utf8) }).load()
                .configuration
        }
        let hub = try configuration("[client]\nname = g\n")
        #expect(try ClientHosting.hubOnly.extensions(hub, { _ in }).isEmpty)
        let nats = try configuration("[client]\nname = g\nbus = nats\nsite = pg\n")
        #expect {
            _ = try ClientHosting.hubOnly.extensions(nats, { _ in })
        } throws: { error in
            (error as? ClientError)?.code == .configuration && "\(error)".contains("bus = nats needs `vem agent`")
        }
        let host = try configuration("[client]\nname = h\nhypervisor = test:///default\n")
        #expect {
            _ = try ClientHosting.hubOnly.extensions(host, { _ in })
        } throws: { error in
            "\(error)".contains("hypervisor = test:///default needs `vem agent`")
        }
        let full = try ClientHosting.full.extensions(host, { _ in })
        #expect(full.map(\.name) == ["hypervisor"])
        // And the hub's transport alone refuses NATS too (a ClientService made without assemble).
        var s = ClientSettings()
        s.bus = .nats
        let id = ClientIdentity(name: "n", role: .dom0, host: "h", version: "1.0.0", incarnation: 1)
        let handlers = ClientHandlers(execute: { .init(seq: $0.seq, status: .ok) })
        #expect(throws: ClientError.self) {
            _ = try HubTransport.make(identity: id, token: "", settings: s, handlers: handlers)
        }
        var options = ClientService.Configuration()
        #expect(options.hypervisor == nil && options.extensions.isEmpty)
        options.hypervisor = HypervisorHost(configuration: .init(uri: "test:///default", groups: [:], manager: "m:1"))
        options.hypervisor = HypervisorHost(configuration: .init(uri: "test:///default", groups: [:], manager: "m:1"))
        #expect(options.extensions.count == 1 && options.hypervisor != nil)
        options.hypervisor = nil
        #expect(options.extensions.isEmpty)
    }

    @Test("parameters split on commas; values and outcomes map to the wire")
    func mappings() {
        #expect(PropertyMapping.parameters("") == [])
        #expect(PropertyMapping.parameters(" /scratch ,  free") == ["/scratch", "free"])
        let nested = PropertyValue.object(["a": .array([.int(1), .object(["b": .null])])])
        let sample = PropertySample(name: "n", result: .success(nested), timestamp: 0)
        // A dict stays a dict on the wire (protocol 2): no JSON text on the way.
        #expect(PropertyMapping.reading(sample, clock: ManualTimeline(unixOrigin: 1_700_000_000)).outcome == .value(nested))
        let timeout = CommandMapping.result(
            PluginOutcome(
                status: .timeout, output: "partial", error: "x did not finish", duration: .milliseconds(1500)),
            seq: 7)
        #expect(timeout.status == .failed && timeout.error == "timeout: x did not finish" && timeout.seq == 7)
        #expect(timeout.durationMicroseconds == 1_500_000)
        #expect(CommandMapping.text(.float(2)) == "2" && CommandMapping.text(.float(2.5)) == "2.5")
    }

    @Test("the manual clock wakes sleepers when it passes their deadline, and cancellation ends a sleep")
    func manualClock() async throws {
        let clock = ManualTimeline(unixOrigin: 1_700_000_000)
        let sleeper = Task { try await clock.sleep(until: 10) }
        try await eventually("the sleeper") { clock.sleeperCount == 1 }
        clock.advance(by: 9)
        #expect(clock.sleeperCount == 1)
        clock.advance(by: 1)
        try await sleeper.value
        let cancelled = Task { try await clock.sleep(until: 100) }
        try await eventually("the second sleeper") { clock.sleeperCount == 1 }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
    }
}

@Suite("Client: configuration warnings")
struct ConfigurationWarningTests {
    @Test("allowing a built-in command (exec, reload, shutdown, get_property) is not a warning; a typo still is")
    func builtinAllowNames() throws {
        let text = """
            [client]
            allow = exec, reload, shutdown, get_property, restart-slurm
            exec_allow = /usr/bin/systemctl
            [command:restart-slurmd]
            plugin = exec
            program = /usr/bin/systemctl
            """
        let loader = ClientConfigurationLoader(paths: ["agent.ini"], readFile: { _ in Array(text.utf8) })
        let warnings = try loader.load().warnings
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("'restart-slurm', which no [command:…] section defines") == true)
    }
}
