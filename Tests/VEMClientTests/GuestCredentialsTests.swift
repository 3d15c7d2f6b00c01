import Foundation
import Testing
import VEMConfig
import VEMTrust

@testable import VEMClient
@testable import VEMClientCore

/// `credentials = smbios`: the guest's Client reads the Manager's credential from the SMBIOS OEM strings (the
/// per-entry files of `dmi-sysfs`, or the raw table), writes it 0600 into a 0700 directory and joins with it.
struct GuestCredentialsTests {
    func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vem-guest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// One SMBIOS structure: header (type, length 5, handle), one formatted byte (the string count), the strings.
    func structure(type: UInt8, handle: UInt8, strings: [String]) -> [UInt8] {
        var bytes: [UInt8] = [type, 5, handle, 0, UInt8(strings.count)]
        for s in strings { bytes += Array(s.utf8) + [0] }
        bytes += strings.isEmpty ? [0, 0] : [0]
        return bytes
    }

    /// A credential of the Manager's issuing intermediate, and its OEM string.
    func credential() throws -> (VMCredential, String) {
        let ca = SiteCADirectory(path: try scratch() + "/ca")
        try ca.initialize()
        let made = try ca.createIssuer(name: "manager-issuer")
        let issuer = try VMCredentialIssuer(
            certificatePEM: try String(contentsOfFile: made.certificate, encoding: .utf8),
            keyPEM: try String(contentsOfFile: made.key, encoding: .utf8),
            siteCAPEM: try String(contentsOfFile: ca.certificatePath, encoding: .utf8))
        let credential = try issuer.issue(vm: "atlas-vm-7", group: "atlas", lifetime: 3_600)
        return (credential, try credential.oemString)
    }

    @Test func theCredentialIsReadFromTheRawTableAndWrittenPrivately() throws {
        let (credential, text) = try credential()
        let root = try scratch()
        try FileManager.default.createDirectory(atPath: root + "/sys/firmware/dmi/tables", withIntermediateDirectories: true)
        let table = structure(type: 1, handle: 1, strings: ["QEMU"])
            + structure(type: 11, handle: 2, strings: ["vem.group=atlas", text]) + structure(type: 127, handle: 3, strings: [])
        try Data(table).write(to: URL(fileURLWithPath: root + "/sys/firmware/dmi/tables/DMI"))
        let directory = root + "/run/vem/credentials"
        let installed = try GuestCredentials(root: root).install(into: directory)
        #expect(installed.identity == credential.identity)
        #expect(mode(directory) == 0o700)
        for path in [installed.tls.key, installed.tls.certificate, installed.tls.ca] { #expect(mode(path) == 0o600) }
        // The files make a TLS client context (chain, key and site CA).
        _ = try TLSContexts.client(
            TLSFiles(ca: installed.tls.ca, certificate: installed.tls.certificate, key: installed.tls.key))
        // Installing again (a restart) replaces the files.
        _ = try GuestCredentials(root: root).install(into: directory)
    }

    @Test func thePerEntryFilesComeFirst() throws {
        let (credential, text) = try credential()
        let root = try scratch()
        let entry = root + "/sys/firmware/dmi/entries/11-0"
        try FileManager.default.createDirectory(atPath: entry, withIntermediateDirectories: true)
        try Data(structure(type: 11, handle: 9, strings: [text])).write(to: URL(fileURLWithPath: entry + "/raw"))
        #expect(GuestCredentials(root: root).oemStrings() == [text])
        #expect(try GuestCredentials(root: root).install(into: root + "/creds").identity == credential.identity)
    }

    @Test func noCredentialIsAnIdentityErrorThatShowsNoSecret() throws {
        let root = try scratch()
        #expect(throws: ClientError.self) { try GuestCredentials(root: root).install(into: root + "/c") }
        let entry = root + "/sys/firmware/dmi/entries/11-0"
        try FileManager.default.createDirectory(atPath: entry, withIntermediateDirectories: true)
        let broken = "vem-credential-v1:SECRETSECRET.AAAA.BBBB"
        try Data(structure(type: 11, handle: 9, strings: [broken])).write(to: URL(fileURLWithPath: entry + "/raw"))
        let error = #expect(throws: ClientError.self) { try GuestCredentials(root: root).install(into: root + "/c") }
        #expect(error.map { !"\($0)".contains("SECRETSECRET") } == true)
    }

    @Test func aGuestAssembledWithSMBIOSCredentialsTakesItsNameAndGroupFromThem() throws {
        let (_, text) = try credential()
        let root = try scratch()
        let entry = root + "/sys/firmware/dmi/entries/11-0"
        try FileManager.default.createDirectory(atPath: entry, withIntermediateDirectories: true)
        try Data(structure(type: 11, handle: 9, strings: [text])).write(to: URL(fileURLWithPath: entry + "/raw"))
        let file = root + "/agent.ini"
        try """
        [client]
        role = domU
        group = atlas
        manager = 127.0.0.1:1
        credentials = smbios
        credentials_dir = \(root)/run/vem
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let service = try ClientService.assemble(paths: [file], root: root, warn: { _ in })
        #expect(service.identity.name == "atlas-vm-7")
        #expect(service.identity.group == "atlas")
        #expect(FileManager.default.fileExists(atPath: root + "/run/vem/client.key"))
    }

    @Test func theRawTableIsParsedForEveryOEMString() throws {
        let table = structure(type: 1, handle: 1, strings: ["QEMU", "Standard PC"])
            + structure(type: 11, handle: 2, strings: ["site=1", "vem-credential-v1:abc"])
            + structure(type: 3, handle: 3, strings: []) + structure(type: 11, handle: 4, strings: ["second"])
            + structure(type: 127, handle: 5, strings: [])
        #expect(GuestCredentials.oemStrings(inTable: table) == ["site=1", "vem-credential-v1:abc", "second"])
        // A truncated table yields what it holds up to the cut, and never reads past the end.
        #expect(GuestCredentials.oemStrings(inTable: Array(table.prefix(30))) == [])
        #expect(GuestCredentials.oemStrings(inTable: [11, 200, 0]) == [])
    }
}
