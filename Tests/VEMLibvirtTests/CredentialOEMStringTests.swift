import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@testable import VEMLibvirt

/// The guest's credential in the domain: an SMBIOS OEM string (`<sysinfo type='smbios'><oemStrings>`), escaped,
/// with the guest's SMBIOS taken from `<sysinfo>` (`<os><smbios mode='sysinfo'/>`).
@Suite struct CredentialOEMStringTests {
    /// The text of every `<oemStrings><entry>` of a domain XML, as an XML parser reads it.
    final class Entries: NSObject, XMLParserDelegate {
        var entries: [String] = []
        var current: String?
        var inOEM = false
        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if name == "oemStrings" { inOEM = true }
            if name == "entry", inOEM { current = "" }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "entry", let c = current {
                entries.append(c)
                current = nil
            }
            if name == "oemStrings" { inOEM = false }
        }
        static func of(_ xml: String) -> [String] {
            let reader = Entries()
            let parser = XMLParser(data: Data(xml.utf8))
            parser.delegate = reader
            _ = parser.parse()
            return reader.entries
        }
    }

    func credentialSpec(_ credential: String) -> DomainSpec {
        var s = spec()
        s.credential = credential
        return s
    }

    @Test func theCredentialBecomesAnOEMStringAndSysinfoSMBIOS() throws {
        let t = try DomainTemplate(testTemplate, extraPlaceholders: ["note"])
        let xml = try t.render(credentialSpec("vem-credential-v1:AAAA.BBBB+/=="))
        #expect(xml.contains("<sysinfo type='smbios'><oemStrings><entry>vem-credential-v1:AAAA.BBBB+/==</entry>"))
        #expect(xml.contains("<smbios mode='sysinfo'/></os>"))
        #expect(Entries.of(xml) == ["vem-credential-v1:AAAA.BBBB+/=="])
        #expect(try DomainXML.check(xml, origin: "x").hasVEMMetadata)
        // Without a credential nothing is added.
        let plain = try t.render(spec())
        #expect(!plain.contains("sysinfo") && !plain.contains("smbios"))
    }

    @Test func markupInTheCredentialIsEscaped() throws {
        let t = try DomainTemplate(testTemplate, extraPlaceholders: ["note"])
        let hostile = "a&b</entry></oemStrings><evil/>'\""
        let xml = try t.render(credentialSpec(hostile))
        #expect(!xml.contains("<evil"))
        #expect(Entries.of(xml) == [hostile])
        // White space and control characters are refused (QEMU's -smbios and the guest's parser take one word).
        for bad in ["a b", "a\nb", "", "é"] {
            #expect(throws: LibvirtError.self) { try t.render(credentialSpec(bad)) }
        }
    }

    @Test func aTemplatesOwnSysinfoAndOEMStringsAreKept() throws {
        let withSysinfo = """
            <domain type='kvm'><name>{{name}}</name>
              <sysinfo type='smbios'><system><entry name='serial'>{{identity}}</entry></system></sysinfo>
              <os><type>hvm</type><smbios mode='sysinfo'/></os>
            </domain>
            """
        let a = try DomainTemplate(withSysinfo).render(credentialSpec("vem-credential-v1:X"))
        #expect(a.components(separatedBy: "<sysinfo").count == 2)
        #expect(a.contains("</system><oemStrings><entry>vem-credential-v1:X</entry></oemStrings></sysinfo>"))
        #expect(a.components(separatedBy: "<smbios").count == 2)
        #expect(Entries.of(a) == ["vem-credential-v1:X"])
        let withOEM = """
            <domain type='kvm'><name>{{name}}</name>
              <sysinfo type='smbios'><oemStrings><entry>site=1</entry></oemStrings></sysinfo>
              <os><type>hvm</type></os>
            </domain>
            """
        let b = try DomainTemplate(withOEM).render(credentialSpec("vem-credential-v1:Y"))
        #expect(Entries.of(b) == ["site=1", "vem-credential-v1:Y"])
        #expect(b.contains("<smbios mode='sysinfo'/></os>"))
    }

    @Test func aDomainWithoutOSIsRefusedWithoutShowingTheCredential() throws {
        let t = try DomainTemplate("<domain type='test'><name>{{name}}</name></domain>")
        let error = #expect(throws: LibvirtError.self) { try t.render(credentialSpec("vem-credential-v1:SECRET")) }
        #expect(error.map { !"\($0)".contains("SECRET") } == true)
    }
}
