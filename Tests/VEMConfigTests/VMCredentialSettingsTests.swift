import Testing
import VEMCore

@testable import VEMConfig

/// `[manager] vm_issuer_certificate`, `vm_issuer_key`, `vm_credential_lifetime` and `[client] credentials`: the
/// Manager's per-VM credentials, with file:line:col diagnostics for bad values.
@Suite struct VMCredentialSettingsTests {
    static let tls = "tls_ca = ca.pem\ntls_certificate = manager.pem\ntls_key = manager.key\n"

    static func rendered(_ text: String, name: String = "site.ini") -> (LoadResult, String) {
        let sources = [ConfigSource(name: name, bytes: Array(text.utf8))]
        let result = ConfigLoader.load(sources)
        var renderer = DiagnosticRenderer()
        renderer.addConfigSources(sources)
        return (result, renderer.render(result.diagnostics))
    }

    @Test func bothFilesAndALifetimeMakeTheSettings() throws {
        let (result, text) = Self.rendered(
            "[manager]\n" + Self.tls
                + "vm_issuer_certificate = manager-issuer.pem\nvm_issuer_key = manager-issuer.key\nvm_credential_lifetime = 2h\n")
        #expect(result.diagnostics.isEmpty, "\(text)")
        let vm = try #require(result.configuration?.manager?.vmCredentials)
        #expect(vm == VMCredentialSettings(certificate: "manager-issuer.pem", key: "manager-issuer.key", lifetime: 7_200))
        let defaulted = Self.rendered(
            "[manager]\n" + Self.tls + "vm_issuer_certificate = i.pem\nvm_issuer_key = i.key\n").0
        #expect(defaulted.configuration?.manager?.vmCredentials?.lifetime == 7 * 86_400)
        #expect(ManagerSettings().vmCredentials == nil)
    }

    @Test func aCertificateWithoutItsKeyIsAnErrorAtItsLine() {
        let (result, text) = Self.rendered("[manager]\n" + Self.tls + "vm_issuer_certificate = i.pem\n")
        #expect(result.configuration == nil)
        #expect(text.contains("site.ini:5:25: error: VM credentials need both vm_issuer_certificate and vm_issuer_key"), "\(text)")
    }

    @Test func credentialsWithoutTheHubsTLSAreAnError() {
        let (result, text) = Self.rendered("[manager]\nvm_issuer_certificate = i.pem\nvm_issuer_key = i.key\n")
        #expect(result.configuration == nil)
        #expect(text.contains("site.ini:2:25: error: VM credentials need the hub's mutual TLS"), "\(text)")
    }

    @Test func aLifetimeOutOfRangeIsAnErrorAtItsValue() {
        let (result, text) = Self.rendered(
            "[manager]\n" + Self.tls + "vm_issuer_certificate = i.pem\nvm_issuer_key = i.key\nvm_credential_lifetime = 60d\n")
        #expect(result.configuration == nil)
        #expect(text.contains("site.ini:7:26: error: 'vm_credential_lifetime' must be"), "\(text)")
    }

    @Test func aGuestTakesItsCredentialsFromSMBIOS() throws {
        let (result, text) = Self.rendered(
            "[client]\nrole = domU\ngroup = atlas\ncredentials = smbios\ncredentials_dir = /run/x\n", name: "agent.ini")
        #expect(result.diagnostics.isEmpty, "\(text)")
        let client = try #require(result.configuration?.client)
        #expect(client.credentials == .smbios && client.credentialsDirectory == "/run/x")
        #expect(ClientSettings().credentialsDirectory == "/run/vem/credentials")
    }

    @Test func credentialsAreForGuestsOnlyAndExcludeTLSFiles() {
        let dom0 = Self.rendered("[client]\nrole = dom0\ncredentials = smbios\n", name: "agent.ini").1
        #expect(dom0.contains("agent.ini:3:15: error: 'credentials = smbios' is for a guest's Client"), "\(dom0)")
        let both = Self.rendered(
            "[client]\nrole = domU\ngroup = g\ncredentials = smbios\n" + Self.tls, name: "agent.ini").1
        #expect(both.contains("agent.ini:4:15: error: set either 'credentials' or tls_ca"), "\(both)")
        let typo = Self.rendered("[client]\nrole = domU\ngroup = g\ncredentials = smbio\n", name: "agent.ini").1
        #expect(typo.contains("agent.ini:4:15: error: unknown value"), "\(typo)")
    }
}
