import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// The routes beside the operator's JSON API, on the same port: `GET /metrics` (Prometheus' text format),
/// `GET /` (the dashboard), `GET /dashboard/events` (its server-sent events) and `GET /dashboard/seen` (what the
/// last browser rendered; `?wait_updates=N&wait_vms=M[&wait=S]` answers once a report shows that much, or after
/// S seconds, default 30).
public enum ObservabilityRoutes {
    /// How often an open event stream looks for a change (wall time). 500 ms.
    public static let eventInterval: Duration = .milliseconds(500)
    /// How long one event stream lasts before the browser is asked to reconnect (so that a stream never holds a
    /// graceful shutdown for long, and a stale tab lets go). 5 min.
    public static let eventStreamLifetime: Duration = .seconds(300)
    /// A comment is sent at least this often, so that the idle timeout does not close a quiet stream. 10 s.
    public static let keepAlive: Duration = .seconds(10)

    /// What a browser last reported it rendered.
    public struct SeenReport: Sendable, Codable, Hashable {
        /// Section updates it applied since the page loaded.
        public var updates: Int
        /// The VM count it shows.
        public var vms: Int?
        /// Reports so far (all browsers).
        public var reports: Int
    }

    /// Adds the routes to `router`.
    public static func add<Context: RequestContext>(to router: Router<Context>, manager: Manager, title: String) {
        let seen = SeenBoard()
        router.get("/metrics") { _, _ -> Response in
            let text = await manager.metrics.collect(manager)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/") { _, _ -> Response in
            let page = DashboardPage.page(await DashboardState.read(manager), title: title)
            return Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("/dashboard/seen") { request, _ -> Response in
            let query = request.uri.queryParameters
            let int = { (name: String) in query[name[...]].flatMap { Int(String($0)) } }
            if let updates = int("updates") { seen.record(updates: updates, vms: int("vms")) }
            var report = seen.report
            if int("wait_updates") != nil || int("wait_vms") != nil {
                let timeout = Duration.seconds(min(max(int("wait") ?? 30, 1), 120))
                report = await seen.wait(updates: int("wait_updates") ?? 0, vms: int("wait_vms") ?? 0, timeout: timeout)
            }
            let body = (try? JSONEncoder().encode(report)) ?? Data()
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/dashboard/events") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    try await streamEvents(manager: manager, into: &writer)
                    try await writer.finish(nil)
                })
        }
    }

    /// Sends the sections at once, then whenever they change, until the stream's lifetime ends.
    static func streamEvents(manager: Manager, into writer: inout any ResponseBodyWriter) async throws {
        let clock = ContinuousClock()
        let end = clock.now + eventStreamLifetime
        var last: [String: String] = [:]
        var lastWrite = clock.now
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        while clock.now < end, !Task.isShuttingDownGracefully, !Task.isCancelled {
            let sections = DashboardPage.sections(await DashboardState.read(manager))
            if sections != last {
                let changed = sections.filter { last[$0.key] != $0.value }
                let json = String(decoding: try encoder.encode(changed), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "event: update\ndata: \(json)\n\n"))
                last = sections
                lastWrite = clock.now
            } else if clock.now - lastWrite >= keepAlive {
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = clock.now
            }
            try await Task.sleep(for: eventInterval)
        }
    }
}
