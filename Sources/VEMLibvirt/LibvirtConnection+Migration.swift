import CLibvirt
import Foundation

extension LibvirtConnection {
    /// Migrates a running domain to another host.
    ///
    /// By default this process opens a connection to `destinationURI` and drives the migration (libvirt's
    /// managed migration); with ``MigrationOptions/peerToPeer`` the source daemon connects to the
    /// destination itself. When anything fails the guest stays on the source (libvirt's guarantee) and
    /// the error says why.
    /// - Parameters:
    ///   - name: The domain.
    ///   - destinationURI: The destination hypervisor (`qemu+ssh://host07/system`,
    ///     `qemu+unix:///system?socket=…`).
    ///   - options: Live or not, persistence, the hypervisor's migration address.
    /// Cancelling the calling task (or passing ``MigrationOptions/timeout``) aborts libvirt's migration job
    /// (`virDomainAbortJob`); the guest then stays on the source.
    /// - Throws: ``LibvirtError`` `.migrationFailed` (with libvirt's message), `.timeout` or `.domainNotFound`.
    public func migrate(_ name: String, to destinationURI: String, options: MigrationOptions = MigrationOptions())
        async throws
    {
        guard let timeout = options.timeout else {
            return try await withTaskCancellationHandler {
                try await migrateNow(name, to: destinationURI, options: options)
            } onCancel: {
                self.abortJob(name)
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.migrate(name, to: destinationURI, options: options.withoutTimeout) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw LibvirtError(
                    .timeout,
                    "the migration did not finish within \(timeout) and was aborted; the guest stays on the source",
                    operation: "migrate domain '\(name)' to '\(destinationURI)'")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Asks libvirt to abort the domain's current job, from outside the connection's queue (which is busy
    /// with the migration itself; libvirt connections accept concurrent calls).
    private func abortJob(_ name: String) {
        guard let handle = state.withLock({ $0.handle }) else { return }
        DispatchQueue.global().async {
            guard let d = virDomainLookupByName(handle.raw, name) else { return }
            _ = virDomainAbortJob(d)
            virDomainFree(d)
        }
    }

    private func migrateNow(_ name: String, to destinationURI: String, options: MigrationOptions) async throws {
        let operation = "migrate domain '\(name)' to '\(destinationURI)'"
        try await call(operation) { conn in
            try Self.withDomain(conn, name) { d in
                var params: virTypedParameterPtr?
                var count: Int32 = 0
                var capacity: Int32 = 0
                defer { virTypedParamsFree(params, count) }
                if let uri = options.migrationURI {
                    guard virTypedParamsAddString(&params, &count, &capacity, VIR_MIGRATE_PARAM_URI, uri) == 0 else {
                        throw lastLibvirtError(operation, default: .migrationFailed)
                    }
                }
                var flags: UInt32 = 0
                if options.live { flags |= VIR_MIGRATE_LIVE.rawValue }
                if options.persistOnDestination { flags |= VIR_MIGRATE_PERSIST_DEST.rawValue }
                if options.undefineSource { flags |= VIR_MIGRATE_UNDEFINE_SOURCE.rawValue }
                if options.peerToPeer {
                    flags |= VIR_MIGRATE_PEER2PEER.rawValue
                    guard virDomainMigrateToURI3(d, destinationURI, params, UInt32(count), flags) == 0 else {
                        throw Self.migrationError(operation)
                    }
                    return
                }
                guard let dconn = LibvirtRuntime.open(destinationURI) else {
                    var error = lastLibvirtError(operation, default: .migrationFailed)
                    error.code = .migrationFailed
                    error.message = "cannot reach the destination: \(error.message)"
                    throw error
                }
                defer { LibvirtRuntime.close(dconn) }
                guard let moved = virDomainMigrate3(d, dconn, params, UInt32(count), flags) else {
                    throw Self.migrationError(operation)
                }
                virDomainFree(moved)
            }
        }
    }

    private static func migrationError(_ operation: String) -> LibvirtError {
        var error = lastLibvirtError(operation, default: .migrationFailed)
        if error.code == .libvirt { error.code = .migrationFailed }
        return error
    }
}
