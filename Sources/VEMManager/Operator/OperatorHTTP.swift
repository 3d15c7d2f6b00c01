import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle
import VEMTrust

/// The operator's HTTP JSON endpoint (Hummingbird): `GET /v1/status`, `/v1/clients`, `/v1/props?client=`,
/// `/v1/commands?limit=`, `/v1/triggers`, `/v1/snapshot`, `/v1/decisions?limit=`,
/// `/v1/explain?name=`. Read-only, and without authentication yet: `vem manager` serves it on loopback unless
/// `insecure = yes`; requests whose Host header names another host are refused (DNS rebinding), and a request's
/// header must arrive within ``headerTimeout``.
public enum OperatorHTTP {
    /// The default address: loopback only (the API has no authentication).
    public static let defaultHost = "127.0.0.1"
    /// The default port, next to the hub's 7400 (`vem status` looks here without `--manager-url`; examples/site.ini
    /// listens here too).
    public static let defaultPort = 7401
    /// How long a client may take to send a request's header (from connecting, or from the end of its previous
    /// request). 10 s.
    public static let headerTimeout: TimeAmount = .seconds(10)
    /// How long a connection may stay idle between requests. 30 s.
    public static let idleTimeout: TimeAmount = .seconds(30)

    /// The HTTP server as a service.
    /// - Parameters:
    ///   - api: What it serves.
    ///   - host: The address to bind (default loopback).
    ///   - port: The port; 0 picks a free one, reported to `onBound`.
    ///   - logger: Request logs.
    ///   - tls: With the site CA's files, HTTPS requiring an operator's certificate (role `operator`); nil: plain
    ///     HTTP (loopback).
    ///   - onBound: Called with the bound port once the server listens.
    /// - Throws: ``VEMTrust/TrustError`` when the TLS files cannot be read.
    public static func service(
        api: OperatorAPI, host: String = defaultHost, port: Int = defaultPort, logger: Logger, tls: TLSFiles? = nil,
        onBound: @escaping @Sendable (Int) async -> Void
    ) throws -> any Service {
        let router = Router()
        router.add(middleware: HostCheckMiddleware(boundHost: host))
        for route in OperatorAPI.routes {
            router.get(RouterPath(stringLiteral: route)) { request, _ -> Response in
                var query: [String: String] = [:]
                for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
                let answer = await api.get(route, query: query)
                return Response(
                    status: HTTPResponse.Status(code: answer.status),
                    headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
        }
        let server: HTTPServerBuilder
        if let tls {
            server = try .tls(
                .http1(
                    configuration: .init(
                        additionalChannelHandlers: [
                            OperatorCertificateCheck(logger: logger), HeaderDeadlineHandler(timeout: headerTimeout),
                        ], idleTimeout: idleTimeout)),
                tlsConfiguration: try TLSContexts.serverConfiguration(tls))
        } else {
            server = .http1(
                configuration: .init(
                    additionalChannelHandlers: [HeaderDeadlineHandler(timeout: headerTimeout)], idleTimeout: idleTimeout))
        }
        return Application(
            router: router,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "vem-manager"),
            onServerRunning: { channel in await onBound(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
