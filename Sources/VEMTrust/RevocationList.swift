import Foundation
import Synchronization

/// The serial numbers the hub refuses although the site CA (or the Manager's issuing intermediate) signed them,
/// shared live between the Manager and its hub: the file's (`tls_revoked`, read at start and again at every reload
/// or SIGHUP) and the VM credentials revoked when their VM was destroyed (each kept until the certificate expires,
/// after which the handshake refuses it anyway).
public final class RevocationList: Sendable {
    private struct State {
        var fromFile: Set<String> = []
        var live: [String: Date] = [:]
    }

    private let state: Mutex<State>

    /// A list holding the file's `serials` (lowercase hexadecimal).
    public init(serials: Set<String> = []) {
        state = Mutex(State(fromFile: serials))
    }

    /// Whether `serial` (lowercase hexadecimal) is revoked.
    public func contains(_ serial: String) -> Bool {
        state.withLock { $0.fromFile.contains(serial) || $0.live[serial] != nil }
    }

    /// Revokes a certificate until it expires (`notAfter`); entries already expired at `now` are dropped.
    public func revoke(_ serial: String, until notAfter: Date, now: Date = Date()) {
        state.withLock { state in
            state.live[serial] = notAfter
            state.live = state.live.filter { $0.value >= now }
        }
    }

    /// Replaces the serials read from the revocation file (a reload read it again); live ones stay.
    public func replaceFileSerials(_ serials: Set<String>) {
        state.withLock { $0.fromFile = serials }
    }

    /// Every serial revoked now.
    public var serials: Set<String> {
        state.withLock { $0.fromFile.union($0.live.keys) }
    }
}
