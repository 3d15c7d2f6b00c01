import Foundation
import Testing
import VEMManager

/// The operator API's client as `vem status` and friends configure it: options, else the environment, else the
/// default; and the messages its failures print.
@Suite struct OperatorClientTests {
    @Test func optionsWinOverTheEnvironmentWhichWinsOverTheDefault() {
        let env = [
            "VEM_MANAGER_URL": "10.0.0.1:7401/", "VEM_TLS_CA": "ca.pem", "VEM_TLS_CERTIFICATE": "op.pem",
            "VEM_TLS_KEY": "op.key", "LOGNAME": "alice",
        ]
        let fromEnvironment = OperatorClient(url: nil, tlsCA: nil, tlsCertificate: nil, tlsKey: nil, environment: env)
        #expect(fromEnvironment.baseURL == "http://10.0.0.1:7401")
        #expect(fromEnvironment.tls?.certificate == "op.pem" && fromEnvironment.user == "alice")
        let fromOptions = OperatorClient(
            url: "https://m:7401", tlsCA: "a", tlsCertificate: "b", tlsKey: "c", environment: env)
        #expect(fromOptions.baseURL == "https://m:7401" && fromOptions.tls?.ca == "a")
        let bare = OperatorClient(url: nil, tlsCA: "a", tlsCertificate: nil, tlsKey: nil, environment: [:])
        #expect(bare.baseURL == OperatorClient.defaultURL && bare.tls == nil && bare.user == nil)
    }

    @Test func anInvalidURLOrAMissingCertificateFailsBeforeAnyConnection() async {
        await #expect(throws: OperatorClientError.self) { try await OperatorClient(url: "ftp://m:1").get("/v1/status") }
        do {
            _ = try await OperatorClient(url: "https://127.0.0.1:1").get("/v1/status")
            Issue.record("no error")
        } catch {
            #expect(error.description.hasPrefix("https:// needs the operator's certificate"))
        }
        let invalid = OperatorClientError.invalidURL("http://")
        #expect(invalid.description == "invalid --manager-url http://: expected http://HOST:PORT (e.g. \(OperatorClient.defaultURL))")
    }
}
