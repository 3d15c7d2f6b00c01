import Foundation
import VEMTrust

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of the Manager's operator API (``OperatorHTTP``): what `vem status`, `vem pause`, `vem ask`, … call,
/// and what a test calls to drive a running Manager the way an operator does.
public struct OperatorClient: Sendable {
    /// Where a Manager started without `http_listen` serves its API (the same port as examples/site.ini).
    public static let defaultURL = "http://\(OperatorHTTP.defaultHost):\(OperatorHTTP.defaultPort)"

    /// The API's base URL, normalized (``normalized(_:)``).
    public let baseURL: String
    /// For an `https://` URL: the operator's certificate, key and the site CA.
    public let tls: TLSFiles?
    /// The login user named in `X-VEM-User` on actions (the journal records `user@address`).
    public let user: String?

    /// A client of the API at `url`.
    /// - Parameters:
    ///   - url: The base URL (``normalized(_:)``).
    ///   - tls: The operator's TLS files, for an `https://` URL.
    ///   - user: The login user named on actions.
    public init(url: String, tls: TLSFiles? = nil, user: String? = nil) {
        (self.baseURL, self.tls, self.user) = (Self.normalized(url), tls, user)
    }

    /// A client configured as `vem` is: each setting from its option, else the environment (`VEM_MANAGER_URL`,
    /// `VEM_TLS_CA`, `VEM_TLS_CERTIFICATE`, `VEM_TLS_KEY`; the user from `USER`, else `LOGNAME`), else the
    /// default. The TLS files count only when all three are given.
    public init(
        url: String?, tlsCA: String?, tlsCertificate: String?, tlsKey: String?,
        environment env: [String: String] = ProcessInfo.processInfo.environment
    ) {
        var tls: TLSFiles?
        if let ca = tlsCA ?? env["VEM_TLS_CA"], let certificate = tlsCertificate ?? env["VEM_TLS_CERTIFICATE"],
            let key = tlsKey ?? env["VEM_TLS_KEY"]
        {
            tls = TLSFiles(ca: ca, certificate: certificate, key: key)
        }
        let user = env["USER"] ?? env["LOGNAME"]
        self.init(url: url ?? env["VEM_MANAGER_URL"] ?? Self.defaultURL, tls: tls, user: user)
    }

    /// `127.0.0.1:7401` → `http://127.0.0.1:7401`: a URL without a scheme is taken as plain HTTP; a trailing
    /// `/` is dropped.
    public static func normalized(_ url: String) -> String {
        let withScheme = url.contains("://") ? url : "http://" + url
        return withScheme.hasSuffix("/") ? String(withScheme.dropLast()) : withScheme
    }

    /// `baseURL + path` with `query` (sorted by name), when it is an `http(s)://HOST…` URL.
    func url(_ path: String, query: [String: String] = [:]) throws(OperatorClientError) -> URL {
        var components = URLComponents(string: baseURL + path)
        if !query.isEmpty {
            components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        }
        guard let url = components?.url, ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil
        else { throw .invalidURL(baseURL) }
        return url
    }

    /// POSTs an action (`/v1/pause`, `/v1/hosts/drain` with `query`), naming ``user`` in `X-VEM-User`: over HTTPS
    /// with the operator's certificate for an `https://` URL.
    /// - Returns: The HTTP status and body (an action's ``Manager/ActionReport``, or `{"error": …}`).
    /// - Throws: ``OperatorClientError`` when the URL is invalid, an `https://` URL comes without the operator's
    ///   certificate, or the Manager cannot be reached.
    public func post(_ path: String, query: [String: String] = [:], timeout: Double = 30) async throws(
        OperatorClientError
    ) -> (Int, Data) {
        let url = try url(path, query: query)
        let userHeader: [(String, String)] = user.flatMap { $0.isEmpty ? nil : [("X-VEM-User", $0)] } ?? []
        if url.scheme?.lowercased() == "https" {
            guard let tls else { throw .certificateNeeded }
            do {
                return try await HTTPSRequest.send(
                    url, method: .POST, headers: userHeader, files: tls, timeout: .milliseconds(Int64(timeout * 1000)))
            } catch {
                throw .unreachable(url: baseURL, reason: "\(error)")
            }
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.timeoutInterval = timeout
        for (name, value) in userHeader { request.setValue(value, forHTTPHeaderField: name) }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        } catch {
            throw .unreachable(url: baseURL, reason: error.localizedDescription)
        }
    }

    /// GETs a path (`/v1/status`): over HTTPS with the operator's certificate for an `https://` URL.
    /// - Returns: The body of a 200 answer.
    /// - Throws: ``OperatorClientError`` when the Manager cannot be reached or answers another status.
    public func get(_ path: String) async throws(OperatorClientError) -> Data {
        let url = try url(path)
        let data: Data
        var status = 200
        if url.scheme?.lowercased() == "https" {
            guard let tls else { throw .certificateNeeded }
            do {
                (status, data) = try await HTTPSRequest.send(url, files: tls)
            } catch {
                throw .unreachable(url: baseURL, reason: "\(error)")
            }
        } else {
            var request = URLRequest(url: url)
            request.timeoutInterval = 10
            let response: URLResponse
            do {
                (data, response) = try await URLSession.shared.data(for: request)
            } catch {
                throw .unreachable(url: baseURL, reason: error.localizedDescription)
            }
            if let http = response as? HTTPURLResponse { status = http.statusCode }
        }
        guard status == 200 else { throw .status(status, body: String(decoding: data, as: UTF8.self)) }
        return data
    }

    /// GETs a path and decodes its JSON as `type`.
    public func get<T: Decodable>(_ type: T.Type, _ path: String) async throws(OperatorClientError) -> T {
        let data = try await get(path)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .unexpectedAnswer(url: baseURL + path, reason: "\(error)")
        }
    }

    /// The names in the Manager's snapshot (`/v1/snapshot`) under the given keys (`clients`, `vms`, `groups`):
    /// what an operator's argument can name.
    public func knownNames(_ keys: [String]) async throws(OperatorClientError) -> Set<String> {
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

    /// Checks that the Manager's snapshot names `name` under one of `keys` (`vem props CLIENT`, `vem explain VM`).
    /// - Throws: ``OperatorClientError/unknownName(_:kind:url:known:)`` (`kind`: "Client", "VM or group") when
    ///   it does not.
    public func require(_ name: String, among keys: [String], kind: String) async throws(OperatorClientError) {
        let known = try await knownNames(keys)
        guard !known.contains(name) else { return }
        throw .unknownName(name, kind: kind, url: baseURL, known: known.sorted())
    }
}
