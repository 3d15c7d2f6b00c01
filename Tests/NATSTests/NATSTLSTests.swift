import Foundation
import Testing
import VEMNATS
import VEMTestKit
import VEMTrust

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// NATS with TLS (issue 17): a nats-server that verifies client certificates against the site CA and maps each
/// certificate to its NATS user (`verify_and_map`), so a Client's certificate, not a password, decides which user,
/// and so which subjects, it gets.
@Suite("NATS with mutual TLS")
struct NATSTLSTests {
    @Test func theServerVerifiesAndMapsClientCertificates() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let ca = SiteCADirectory(path: "\(scratch.path)/ca")
        let foreign = SiteCADirectory(path: "\(scratch.path)/foreign")
        try ca.initialize()
        try foreign.initialize(commonName: "Not the site CA")
        _ = try ca.issue(name: "nats", role: .manager, hosts: ["127.0.0.1"])
        _ = try ca.issue(name: "host1", role: .dom0)
        _ = try foreign.issue(name: "host1", role: .dom0)
        let server = try await NATSServerProcess.start(
            name: "tls", body: """
                tls {
                  cert_file: "\(ca.file("nats.pem"))"
                  key_file: "\(ca.file("nats.key"))"
                  ca_file: "\(ca.certificatePath)"
                  verify_and_map: true
                }
                authorization {
                  users = [
                    { user: "host1", permissions: { publish: "vem.s.manager.host1", subscribe: "vem.s.client.host1" } }
                  ]
                }
                """, directory: scratch.path)
        defer { Task { await server.stop() } }
        func options(_ directory: SiteCADirectory, _ name: String?) -> NATSConnectionOptions {
            var options = NATSConnectionOptions(
                servers: [server.url], name: "probe", connectTimeout: .seconds(2), maximumReconnects: 0)
            if let name {
                options.tls = (ca.certificatePath, directory.file("\(name).pem"), directory.file("\(name).key"))
            }
            return options
        }

        // The site's certificate: connected, as the NATS user its certificate names.
        let connection = try await NATSConnection.connect(options(ca, "host1"))
        try connection.publish("vem.s.manager.host1", Array("up".utf8))
        try await connection.flush()
        let connz = try await fetch("http://127.0.0.1:\(server.ports.monitor)/connz?auth=true")
        #expect(connz.contains(#""authorized_user": "host1""#), "\(connz)")
        await connection.close()

        // No certificate, or one of another CA: no connection.
        await #expect(throws: NATSError.self) { _ = try await NATSConnection.connect(options(ca, nil)) }
        await #expect(throws: NATSError.self) { _ = try await NATSConnection.connect(options(foreign, "host1")) }
    }

    func fetch(_ url: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        return String(decoding: data, as: UTF8.self)
    }
}
