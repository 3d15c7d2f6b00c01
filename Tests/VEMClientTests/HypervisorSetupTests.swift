import Testing
import VEMHypervisorPlugins
import VEMLibvirt
import VEMProtocol

@testable import VEMClient
@testable import VEMClientCore

@Suite("Client: the hypervisor section")
struct HypervisorSetupTests {
    /// Loads `agent.ini` (at /etc/vem) and builds its hypervisor with in-memory files.
    func build(_ ini: String, files: [String: String] = [:]) throws -> ClientHypervisor.Built? {
        let loader = ClientConfigurationLoader(paths: ["/etc/vem/agent.ini"], readFile: { _ in Array(ini.utf8) })
        let configuration = try loader.load().configuration
        return try ClientHypervisor.make(configuration) { path in files[path].map { Array($0.utf8) } }
    }

    let template = "<domain type='test'>\n  <name>{{name}}</name>\n  <os><kernel>{{kernel}}</kernel></os>\n</domain>\n"

    @Test("no hypervisor, no host; group templates load from files relative to the configuration")
    func groupsFromFiles() async throws {
        #expect(try build("[client]\nname = a\n") == nil)
        let ini = """
            [client]
            name = a
            manager = 10.0.0.1:7070
            hypervisor = test:///default

            [group:atlas]
            share = 40
            template = templates/atlas.xml
            vm_memory_mib = 512
            vm_vcpus = 2
            kernel = /boot/vmlinuz
            initrd = /boot/initrd.gz
            disk = /var/lib/vem/atlas.qcow2

            [group:cms]
            share = 20
            template = cms-el9
            """
        let built = try #require(try build(ini, files: ["/etc/vem/templates/atlas.xml": template]))
        let configuration = await built.host.configuration
        #expect(configuration.uri == "test:///default")
        #expect(configuration.manager == "10.0.0.1:7070")
        #expect(configuration.groups.keys.sorted() == ["atlas"])
        let atlas = try #require(configuration.groups["atlas"])
        #expect(atlas.memoryMiB == 512 && atlas.vcpus == 2)
        #expect(atlas.kernel == "/boot/vmlinuz" && atlas.initrd == "/boot/initrd.gz")
        #expect(atlas.disk == "/var/lib/vem/atlas.qcow2")
        #expect(atlas.template.origin == "/etc/vem/templates/atlas.xml")
        #expect(atlas.template.placeholders == ["name", "kernel"])
        // A bare template name is an image for another kind of host: a warning, no definition.
        #expect(built.warnings.count == 1)
        #expect(built.warnings.first?.contains("/etc/vem/agent.ini:15:1: warning: group 'cms'") == true, "\(built.warnings)")
    }

    @Test("a bad or missing template file is a file:line:col error with the line and a caret")
    func badTemplates() throws {
        let ini = "[client]\nhypervisor = test:///default\n\n[group:atlas]\nshare = 1\ntemplate = /t/atlas.xml\n"
        let bad = "<domain>\n  <name>{{nmae}}</name>\n</domain>\n"
        #expect {
            try build(ini, files: ["/t/atlas.xml": bad])
        } throws: { error in
            let message = (error as? ClientError)?.message ?? ""
            return (error as? ClientError)?.code == .configuration
                && message.contains("/t/atlas.xml:2:9: error: unknown placeholder '{{nmae}}'; did you mean '{{name}}'?")
                && message.contains("      <name>{{nmae}}</name>\n            ^")
                && message.contains("1 error; the client does not start")
        }
        #expect {
            try build(ini)
        } throws: { error in
            (error as? ClientError)?.message.contains(
                "/etc/vem/agent.ini:4:1: error: group 'atlas': cannot read the template file '/t/atlas.xml'") == true
        }
    }

    @Test("a lifecycle event names the domain, the event and, when known, VEM's group and VM id")
    func lifecycleMessage() {
        let event = DomainEvent(domain: "atlas-3", uuid: "u-1", kind: .started, detail: 0)
        let known = ClientHypervisor.message(
            for: event, instance: VEMInstance(group: "atlas", vmID: "atlas-3"), timestampMilliseconds: 42)
        #expect(known.kind == "vm.lifecycle" && known.timestampMilliseconds == 42)
        #expect(
            known.attributes == [
                NamedValue("domain", .string("atlas-3")), NamedValue("uuid", .string("u-1")),
                NamedValue("event", .string("started")), NamedValue("detail", .string(event.detailName)),
                NamedValue("group", .string("atlas")), NamedValue("vm", .string("atlas-3")),
            ])
        let foreign = ClientHypervisor.message(for: event, instance: nil, timestampMilliseconds: 1)
        #expect(foreign.attributes.map(\.name) == ["domain", "uuid", "event", "detail"])
    }
}
