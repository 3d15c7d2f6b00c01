import Foundation
import Logging
import VEMManager
import VEMTestSupport

/// What the scenarios do with the site's Manager, whether it is a `vem manager` process or runs in this process.
protocol SiteManager: AnyObject, Sendable {
    /// True until it has stopped.
    var isRunning: Bool { get }
    /// The last lines of its log, for failure messages.
    var logTail: String { get }
    /// Stops it gracefully.
    func stop() async
    /// Kills it at once (a crash).
    func kill9() async
}

extension Daemon: SiteManager {
    /// Stops the process: SIGTERM, SIGKILL after 5 s.
    func stop() async { await stop(grace: .seconds(5)) }
}

/// The Manager of the real-guest site, run in this process (the same ``VEMManager/ManagerService`` `vem manager`
/// runs, on the same site file, journal and operator API), because its live migrations go to the test's
/// libvirtds on unix sockets (`qemu+unix:///system?socket=…`), a destination only code may give
/// (``VEMManager/MigrationRoutes``; a site file's `migration_uri` may carry no query string). It logs warnings
/// and worse to standard error.
final class InProcessManager: SiteManager, @unchecked Sendable {
    private let task: Task<Void, Never>
    private let lock = NSLock()
    private var stopped = false

    private init(task: Task<Void, Never>) { self.task = task }

    /// Starts the Manager on `config` with its journal at `journal` and the given routes; returns it with its
    /// ports once both the hub and the operator API listen.
    static func start(
        config: String, journal: String, routes: MigrationRoutes
    ) async throws -> (InProcessManager, Site.Ports) {
        let loaded = SiteFiles.load([config])
        guard let site = loaded.site else {
            throw HarnessError("\(config): \(loaded.diagnostics.joined(separator: "\n"))")
        }
        var options = ManagerService.Options()
        options.journalPath = journal
        options.operatorAPI = true
        options.configPaths = [config]
        options.routes = routes
        options.logger = Logger(label: "e2e.manager")
        options.logger.logLevel = .warning
        let listening = AsyncStream.makeStream(of: Site.Ports.self)
        options.onListening = { hub, http in
            listening.continuation.yield(Site.Ports(hub: hub, http: http))
            listening.continuation.finish()
        }
        let service = try await ManagerService.start(site: site, options: options)
        let task = Task {
            do { try await service.run() } catch { print("in-process manager: \(error)") }
            listening.continuation.finish()
        }
        let manager = InProcessManager(task: task)
        var ports: Site.Ports?
        for await p in listening.stream { ports = p }
        guard let ports else {
            await manager.stop()
            throw HarnessError("the in-process manager stopped before listening")
        }
        return (manager, ports)
    }

    var isRunning: Bool { lock.withLock { !stopped } }

    var logTail: String { "(the in-process manager logged its warnings to standard error)" }

    func stop() async {
        task.cancel()
        await task.value
        lock.withLock { stopped = true }
    }

    func kill9() async { await stop() }
}
