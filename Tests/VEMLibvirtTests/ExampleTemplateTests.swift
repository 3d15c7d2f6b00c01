import Foundation
import Testing

@testable import VEMLibvirt

/// examples/domain-template.xml (issue 20: examples/ had no domain template) loads as a template, renders into
/// well-formed domain XML with VEM's metadata, and carries the guest's identity in its SMBIOS serial.
@Suite struct ExampleTemplateTests {
    @Test func theExampleTemplateRendersADomainWithTheGuestsIdentity() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("examples/domain-template.xml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let template = try DomainTemplate(text, origin: path)
        #expect(Set(template.placeholders) == ["name", "uuid", "memory_mib", "vcpus", "identity", "disk"])
        let spec = DomainSpec(
            name: "atlas-vm-1", uuid: "11111111-2222-4333-8444-555555555555", memoryMiB: 8192, vcpus: 4,
            instance: VEMInstance(group: "atlas", vmID: "atlas-vm-1"), manager: "10.0.0.1:7400",
            disk: "/var/lib/vem/images/atlas-el9.qcow2")
        let xml = try template.render(spec)
        #expect(try DomainXML.check(xml, origin: path).hasVEMMetadata)
        #expect(xml.contains("<entry name='serial'>vem.vm=atlas-vm-1 vem.group=atlas vem.manager=10.0.0.1:7400</entry>"))
        #expect(xml.contains("<source file='/var/lib/vem/images/atlas-el9.qcow2'/>"))
        #expect(xml.contains("<vcpu>4</vcpu>") && xml.contains("<memory unit='MiB'>8192</memory>"))
    }
}
