import ArgumentParser
import Foundation
import VEMManager

/// Options shared by the operator's commands: where the Manager's API is, and JSON output. The calls go through
/// ``VEMManager/OperatorClient``; a failure is printed as `error: …` and exits 1.
struct ManagerAPIOptions: ParsableArguments {
    @Option(help: "The Manager's operator API (default: $VEM_MANAGER_URL, else \(OperatorClient.defaultURL)).")
    var managerURL: String?
    @Flag(help: "Print the API's JSON instead of a table.") var json = false
    @Option(help: "For an https:// URL: the site CA (default: $VEM_TLS_CA).") var tlsCA: String?
    @Option(help: "For an https:// URL: the operator's certificate, `vem ca issue NAME --role operator` (default: $VEM_TLS_CERTIFICATE).")
    var tlsCertificate: String?
    @Option(help: "For an https:// URL: the operator's key (default: $VEM_TLS_KEY).") var tlsKey: String?

    /// The API client these options name.
    var client: OperatorClient {
        OperatorClient(url: managerURL, tlsCA: tlsCA, tlsCertificate: tlsCertificate, tlsKey: tlsKey)
    }

    /// Runs `call`; an ``VEMManager/OperatorClientError`` is printed and exits 1.
    func exitOnError<T>(_ call: (OperatorClient) async throws -> T) async throws -> T {
        do {
            return try await call(client)
        } catch let error as OperatorClientError {
            printError("error: \(error)")
            throw ExitCode.failure
        }
    }

    /// GETs a path (``VEMManager/OperatorClient/get(_:)``).
    func get(_ path: String) async throws -> Data { try await exitOnError { try await $0.get(path) } }

    /// GETs and decodes, or prints the raw JSON with `--json` (returns nil then).
    func fetch<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T? {
        guard json else { return try await exitOnError { try await $0.get(T.self, path) } }
        print(String(decoding: try await get(path), as: UTF8.self))
        return nil
    }
}
