import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle
import VEMTrust

/// The operator's HTTP JSON endpoint (Hummingbird): `GET /v1/status`, `/v1/clients`, `/v1/props?client=`,
/// `/v1/commands?limit=`, `/v1/triggers`, `/v1/snapshot`, `/v1/decisions?limit=`,
/// `/v1/explain?name=`; the operator's actions, `POST` (``OperatorAPI/actionRoutes``), and `POST
/// /v1/ask?names=&clients=&timeout=` (`vem ask`: one JSON line per answer, written as it arrives); beside them
/// `/metrics` and the dashboard at `/` (``ObservabilityRoutes``). Without authentication yet: `vem manager` serves it
/// on loopback unless `insecure = yes`; requests whose Host header names another host are refused (DNS rebinding),
/// and a request's header must arrive within ``headerTimeout``.
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
        let router = Router(context: OperatorRequestContext.self)
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
        for route in OperatorAPI.actionRoutes {
            router.post(RouterPath(stringLiteral: route)) { request, context -> Response in
                var query: [String: String] = [:]
                for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
                let name = OperatorAPI.operatorName(
                    user: request.headers[HTTPField.Name("X-VEM-User")!], address: context.remoteAddress?.ipAddress)
                let answer = await api.post(route, query: query, operatorName: name)
                return Response(
                    status: HTTPResponse.Status(code: answer.status),
                    headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
        }
        router.post("/v1/ask") { request, _ -> Response in
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            let names = (query["names"] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
            let timeout = query["timeout"].flatMap(Double.init).map { min(max($0, 0.01), 600) } ?? 5
            let pattern = query["clients"].flatMap { $0.isEmpty ? nil : $0 }
            // One JSON object a line, each written as its answer arrives.
            let (lines, continuation) = AsyncStream.makeStream(of: AskLine.self, bufferingPolicy: .unbounded)
            let manager = api.manager
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: ResponseBody { writer in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            let last = await manager.ask(
                                names, clients: pattern, timeout: .milliseconds(Int64(timeout * 1000)),
                                onLine: { continuation.yield($0) })
                            continuation.yield(last)
                            continuation.finish()
                        }
                        let encoder = JSONEncoder()
                        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                        for await line in lines {
                            var bytes = try encoder.encode(line)
                            bytes.append(0x0A)
                            try await writer.write(ByteBuffer(bytes: bytes))
                        }
                        try await group.waitForAll()
                    }
                    try await writer.finish(nil)
                })
        }
        ObservabilityRoutes.add(to: router, manager: api.manager, title: "VEM Manager")
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

/// A request's context with the address it came from (the operator's name in the journal).
struct OperatorRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer's address.
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
