import ArgumentParser
import Foundation
import VEMCore
import VEMManager
import VEMTrust

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Options shared by the operator's commands: where the Manager's API is, and JSON output.
struct ManagerAPIOptions: ParsableArguments {
    @Option(
        help: "The Manager's operator API (default: $VEM_MANAGER_URL, else \(ManagerAPIOptions.defaultManagerURL)).")
    var managerURL: String?

    /// Where a Manager started without `http_listen` serves its API (the same port as examples/site.ini).
    static let defaultManagerURL = "http://\(OperatorHTTP.defaultHost):\(OperatorHTTP.defaultPort)"

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    @Option(help: "For an https:// URL: the site CA (default: $VEM_TLS_CA).")
    var tlsCA: String?

    @Option(help: "For an https:// URL: the operator's certificate, `vem ca issue NAME --role operator` (default: $VEM_TLS_CERTIFICATE).")
    var tlsCertificate: String?

    @Option(help: "For an https:// URL: the operator's key (default: $VEM_TLS_KEY).")
    var tlsKey: String?

    /// The operator's TLS files from the options or the environment (nil unless all three are given).
    var tlsFiles: TLSFiles? {
        let env = ProcessInfo.processInfo.environment
        guard let ca = tlsCA ?? env["VEM_TLS_CA"], let certificate = tlsCertificate ?? env["VEM_TLS_CERTIFICATE"],
            let key = tlsKey ?? env["VEM_TLS_KEY"]
        else { return nil }
        return TLSFiles(ca: ca, certificate: certificate, key: key)
    }

    var baseURL: String {
        Self.normalized(managerURL ?? ProcessInfo.processInfo.environment["VEM_MANAGER_URL"] ?? Self.defaultManagerURL)
    }

    /// `127.0.0.1:7401` → `http://127.0.0.1:7401`: a URL without a scheme is taken as plain HTTP; a trailing
    /// `/` is dropped.
    static func normalized(_ url: String) -> String {
        let withScheme = url.contains("://") ? url : "http://" + url
        return withScheme.hasSuffix("/") ? String(withScheme.dropLast()) : withScheme
    }

    /// POSTs an action (`/v1/pause`, `/v1/hosts/drain` with `query`), naming the login user in `X-VEM-User`
    /// (the journal records `user@address`); returns the HTTP status and body. Exits 1 when the Manager cannot be
    /// reached.
    func post(_ path: String, query: [String: String] = [:], timeout: Double = 30) async throws -> (Int, Data) {
        var components = URLComponents(string: baseURL + path)
        if !query.isEmpty { components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        guard let url = components?.url, ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil
        else {
            printError(
                "error: invalid --manager-url \(baseURL): expected http://HOST:PORT (e.g. \(Self.defaultManagerURL))")
            throw ExitCode.failure
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.timeoutInterval = timeout
        let user = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"]
        if let user, !user.isEmpty { request.setValue(user, forHTTPHeaderField: "X-VEM-User") }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        } catch {
            printError("error: cannot reach the Manager at \(baseURL): \(error.localizedDescription)")
            throw ExitCode.failure
        }
    }

    /// GETs a path; exits 1 with a clear message when the Manager cannot be reached or answers an error.
    func get(_ path: String) async throws -> Data {
        guard let url = URL(string: baseURL + path), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
            url.host != nil
        else {
            printError(
                "error: invalid --manager-url \(baseURL): expected http://HOST:PORT (e.g. \(Self.defaultManagerURL))")
            throw ExitCode.failure
        }
        let data: Data
        var status = 200
        if url.scheme?.lowercased() == "https" {
            guard let files = tlsFiles else {
                printError("error: https:// needs the operator's certificate: --tls-ca, --tls-certificate, --tls-key")
                throw ExitCode.failure
            }
            do {
                (status, data) = try await HTTPSGet.get(url, files: files)
            } catch {
                printError("error: cannot reach the Manager at \(baseURL): \(error)")
                throw ExitCode.failure
            }
        } else {
            var request = URLRequest(url: url)
            request.timeoutInterval = 10
            let response: URLResponse
            do {
                (data, response) = try await URLSession.shared.data(for: request)
            } catch {
                printError("error: cannot reach the Manager at \(baseURL): \(error.localizedDescription)")
                throw ExitCode.failure
            }
            if let http = response as? HTTPURLResponse { status = http.statusCode }
        }
        if status != 200 {
            printError("error: the Manager answered \(status): \(String(decoding: data, as: UTF8.self))")
            throw ExitCode.failure
        }
        return data
    }

    /// The names in the Manager's snapshot (`/v1/snapshot`) under the given keys (`clients`, `vms`, `groups`):
    /// what an operator's argument can name.
    func knownNames(_ keys: [String]) async throws -> Set<String> {
        let data = try await get("/v1/snapshot")
        let document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        var names = Set<String>()
        for key in keys {
            for item in document[key] as? [[String: Any]] ?? [] {
                if let name = item["name"] as? String { names.insert(name) }
            }
        }
        return names
    }

    /// Exits 1 with `error: no <kind> named 'NAME' (known: …)` unless `name` is among `known`.
    func require(_ name: String, among known: Set<String>, kind: String) throws {
        guard !known.contains(name) else { return }
        let list = known.sorted().prefix(20).joined(separator: ", ")
        printError("error: no \(kind) named '\(name)' at \(baseURL) (known: \(list.isEmpty ? "none" : list))")
        throw ExitCode.failure
    }

    /// GETs and decodes, or prints the raw JSON with `--json` (returns nil then).
    func fetch<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T? {
        let data = try await get(path)
        if json {
            print(String(decoding: data, as: UTF8.self))
            return nil
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            printError("error: unexpected answer from the Manager at \(baseURL)\(path): \(error)")
            throw ExitCode.failure
        }
    }
}
