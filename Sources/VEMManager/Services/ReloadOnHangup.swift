import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the site's configuration (``Manager/reload(by:)``, journaled as by `SIGHUP`), as `vem reload`
/// does; a broken configuration is refused with its diagnostics in the log and the running one stays.
struct ReloadOnHangup: Service {
    let manager: Manager

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        try await cancelWhenGracefulShutdown {
            for await _ in hangups {
                let report = await manager.reload(by: "SIGHUP")
                if !report.accepted { manager.logger.error("SIGHUP: \(report.message)") }
            }
        }
    }
}
