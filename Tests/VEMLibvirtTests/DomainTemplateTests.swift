import Foundation
import Testing

@testable import VEMLibvirt

let testTemplate = """
    <domain type='test'>
      <name>{{name}}</name>
      <uuid>{{ uuid }}</uuid>
      <memory unit='MiB'>{{memory_mib}}</memory>
      <vcpu>{{vcpus}}</vcpu>
      <os><type arch='x86_64'>hvm</type><cmdline>console=ttyS0 {{identity}}</cmdline></os>
      <description>{{note}}</description>
    </domain>
    """

func spec(name: String = "atlas-1", note: String = "plain") -> DomainSpec {
    DomainSpec(
        name: name, uuid: "11111111-2222-4333-8444-555555555555", memoryMiB: 256, vcpus: 2,
        instance: VEMInstance(group: "atlas", vmID: "atlas-1", commandID: "42"), manager: "10.0.0.1:7070",
        extra: ["note": note])
}

@Suite struct DomainTemplateTests {
    @Test func rendersPlaceholdersAndAddsMetadata() throws {
        let t = try DomainTemplate(testTemplate, origin: "atlas.xml", extraPlaceholders: ["note"])
        #expect(t.placeholders == ["name", "uuid", "memory_mib", "vcpus", "identity", "note"])
        let xml = try t.render(spec())
        #expect(xml.contains("<name>atlas-1</name>"))
        #expect(xml.contains("<uuid>11111111-2222-4333-8444-555555555555</uuid>"))
        #expect(xml.contains("<memory unit='MiB'>256</memory>"))
        #expect(xml.contains("console=ttyS0 vem.vm=atlas-1 vem.group=atlas vem.manager=10.0.0.1:7070</cmdline>"))
        #expect(
            xml.contains(
                "<metadata><vem:instance xmlns:vem=\"https://vem.example/xmlns/instance/1\" group=\"atlas\" "
                    + "vm=\"atlas-1\" command=\"42\"/></metadata>"))
        #expect(try DomainXML.check(xml, origin: "x").hasVEMMetadata)
    }

    @Test func valuesAreXMLEscaped() throws {
        let t = try DomainTemplate(testTemplate, extraPlaceholders: ["note"])
        let xml = try t.render(spec(name: "a&b", note: "</description><evil attr=\"1\"/>'"))
        #expect(xml.contains("<name>a&amp;b</name>"))
        #expect(xml.contains("<description>&lt;/description&gt;&lt;evil attr=&quot;1&quot;/&gt;&apos;</description>"))
        #expect(!xml.contains("<evil"))
    }

    @Test func unknownPlaceholderIsAnErrorWithLocationAndSuggestion() {
        let text = "<domain>\n  <memory>{{memroy_mib}}</memory>\n</domain>"
        let error = #expect(throws: LibvirtError.self) { try DomainTemplate(text, origin: "atlas.xml") }
        #expect(error?.code == .unknownPlaceholder)
        #expect(
            error?.message == "atlas.xml:2:11: unknown placeholder '{{memroy_mib}}'; did you mean '{{memory_mib}}'?")
    }

    @Test func unterminatedAndInvalidPlaceholdersAreMalformed() {
        let unterminated = #expect(throws: LibvirtError.self) { try DomainTemplate("<domain>{{name</domain>") }
        #expect(unterminated?.code == .malformedTemplate)
        #expect(unterminated?.message.contains("<template>:1:9: '{{' without a closing '}}'") == true)
        let invalid = #expect(throws: LibvirtError.self) { try DomainTemplate("<domain>{{Na-me}}</domain>") }
        #expect(invalid?.code == .malformedTemplate)
        let empty = #expect(throws: LibvirtError.self) { try DomainTemplate("<domain>{{ }}</domain>") }
        #expect(empty?.code == .malformedTemplate)
    }

    @Test func placeholderWithoutValueIsAnErrorAtRender() throws {
        let t = try DomainTemplate("<domain><os><kernel>{{kernel}}</kernel></os></domain>", origin: "k.xml")
        let error = #expect(throws: LibvirtError.self) { try t.render(spec()) }
        #expect(error?.code == .unknownPlaceholder)
        #expect(error?.message == "k.xml:1:21: placeholder '{{kernel}}' has no value for VM 'atlas-1'")
    }

    @Test func malformedXMLAndWrongRootAreErrors() throws {
        let broken = try DomainTemplate("<domain><name>{{name}}</nam></domain>", origin: "b.xml")
        let e1 = #expect(throws: LibvirtError.self) { try broken.render(spec()) }
        #expect(e1?.code == .malformedTemplate)
        #expect(e1?.message.hasPrefix("b.xml: rendered domain XML is not well-formed") == true)
        let wrongRoot = try DomainTemplate("<network><name>{{name}}</name></network>", origin: "n.xml")
        let e2 = #expect(throws: LibvirtError.self) { try wrongRoot.render(spec()) }
        #expect(e2?.message == "n.xml: the root element is <network>, expected <domain>")
        let unclosed = try DomainTemplate("<domain><name>{{name}}</name>", origin: "u.xml")
        let e3 = #expect(throws: LibvirtError.self) { try unclosed.render(spec()) }
        #expect(e3?.code == .malformedTemplate)
    }

    @Test func metadataGoesIntoAnExistingMetadataElement() throws {
        let other = "<x:site xmlns:x='urn:site'>keep</x:site>"
        for text in [
            "<?xml version='1.0'?>\n<!-- a <metadata> comment -->\n<domain type='qemu' x='a>b'>"
                + "<metadata>\(other)</metadata><name>{{name}}</name></domain>",
            "<domain><name>{{name}}</name><metadata/></domain>",
            "<domain><name>{{name}}</name><metadata ></metadata></domain>",
        ] {
            let xml = try DomainTemplate(text).render(spec())
            let shape = try DomainXML.check(xml, origin: "t")
            #expect(shape.hasVEMMetadata, "\(xml)")
            let body = xml.components(separatedBy: "-->").last ?? xml
            #expect(body.components(separatedBy: "<metadata").count == 2, "one metadata element in \(xml)")
            if text.contains("x:site") { #expect(xml.contains(other)) }
        }
    }

    @Test func templateCarryingVEMMetadataIsRefused() throws {
        let text = "<domain><metadata>\(VEMInstance(group: "g", vmID: "v").element)</metadata></domain>"
        let error = #expect(throws: LibvirtError.self) { try DomainTemplate(text).render(spec()) }
        #expect(error?.message.contains("carries VEM's metadata itself") == true)
    }

    @Test func specIsValidated() throws {
        let t = try DomainTemplate("<domain><name>{{name}}</name></domain>")
        var s = spec()
        s.uuid = "not-a-uuid"
        #expect(throws: LibvirtError.self) { try t.render(s) }
        s = spec()
        s.memoryMiB = 0
        #expect(throws: LibvirtError.self) { try t.render(s) }
        s = spec()
        s.instance.vmID = "two words"
        let error = #expect(throws: LibvirtError.self) { try t.render(s) }
        #expect(error?.code == .badArgument)
        #expect(error?.message == "vm id 'two words' must be non-empty and without white space")
    }
}

@Suite struct VEMInstanceTests {
    @Test func parsesWhatLibvirtReturns() throws {
        // virDomainGetMetadata returns the element with the namespace as a default or a prefixed declaration.
        let a = try VEMInstance.parse(
            "<instance xmlns=\"https://vem.example/xmlns/instance/1\" group=\"cms\" vm=\"cms-7\" command=\"9\"/>")
        #expect(a == VEMInstance(group: "cms", vmID: "cms-7", commandID: "9"))
        let b = try VEMInstance.parse(VEMInstance(group: "a<b", vmID: "v\"1").element)
        #expect(b == VEMInstance(group: "a<b", vmID: "v\"1", commandID: nil))
    }

    @Test func rejectsForeignOrIncompleteMetadata() throws {
        #expect(throws: LibvirtError.self) {
            try VEMInstance.parse("<instance xmlns=\"urn:other\" group=\"g\" vm=\"v\"/>")
        }
        #expect(throws: LibvirtError.self) {
            try VEMInstance.parse("<instance xmlns=\"https://vem.example/xmlns/instance/1\" group=\"g\"/>")
        }
        #expect(throws: LibvirtError.self) { try VEMInstance.parse("<instance") }
        #expect(throws: LibvirtError.self) { try VEMInstance.parse("<other group=\"g\" vm=\"v\"/>") }
        // What libvirt returns: the element without its namespace.
        #expect(try VEMInstance.parse("<instance group=\"g\" vm=\"v\"/>") == VEMInstance(group: "g", vmID: "v"))
    }

    @Test func statesAndEventsMapLibvirtNumbers() {
        #expect(DomainState(libvirtState: 1) == .running)
        #expect(DomainState(libvirtState: 5) == .shutoff)
        #expect(!DomainState.shutoff.isActive && DomainState.paused.isActive)
        #expect(DomainState(libvirtState: 99) == .noState)
        let e = DomainEvent(domain: "d", uuid: "u", kind: DomainEvent.Kind(libvirtEvent: 5), detail: 3)
        #expect(e.kind == .stopped && e.detailName == "migrated")
        #expect(DomainEvent.Kind(libvirtEvent: 42) == .unknown)
    }
}

/// examples/real-guest-domain.xml, the real guest image's template, loads and renders: the identity and the VM's
/// size on the kernel command line, the image's files, and nothing secret.
@Test func theRealGuestExampleTemplateRenders() throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/real-guest-domain.xml").path
    let template = try DomainTemplate(String(contentsOfFile: path, encoding: .utf8), origin: path)
    var s = spec()
    s.kernel = "/var/cache/vem-guest/k/vmlinuz"
    s.initrd = "/var/lib/vem/initrd.cpio"
    s.disk = "/var/cache/vem-guest/k/disk.img"
    let xml = try template.render(s)
    #expect(xml.contains("vem.vm=atlas-1 vem.group=atlas vem.manager=10.0.0.1:7070 vem.vcpus=2 vem.memory_mib=256"))
    #expect(xml.contains("<source file='/var/cache/vem-guest/k/disk.img'/>"))
    #expect(xml.contains("<initrd>/var/lib/vem/initrd.cpio</initrd>"))
    let cmdline = xml.components(separatedBy: "<cmdline>").last?.components(separatedBy: "</cmdline>").first ?? ""
    #expect(cmdline.hasPrefix("console=ttyS0"))
    #expect(!cmdline.contains("munge") && !cmdline.contains("token"), "secrets stay off the command line")
}
