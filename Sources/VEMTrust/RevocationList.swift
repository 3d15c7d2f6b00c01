import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The serial numbers the hub refuses although the site CA (or the Manager's issuing intermediate) signed them,
/// shared live between the Manager and its hub: the file's (`tls_revoked`, read at start and again at every reload
/// or SIGHUP) and the VM credentials revoked when their VM was destroyed (each kept until the certificate expires,
/// after which the handshake refuses it anyway). Observers (``observe(_:)``: the hub) hear of every serial revoked,
/// so that a connection already open with that certificate is closed, not only the next handshake refused.
public final class RevocationList: Sendable {
    /// Told the serials just revoked (a set, possibly with serials revoked before), after the list holds them.
    public typealias Observer = @Sendable (Set<String>) -> Void

    /// Identifies an observer, for ``stopObserving(_:)``.
    public struct Observation: Sendable, Hashable {
        let id: Int
    }

    private struct State {
        var fromFile: Set<String> = []
        var live: [String: Date] = [:]
        var observers: [Int: Observer] = [:]
        var nextObserver = 0
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

    /// Revokes a certificate until it expires (`notAfter`); entries already expired at `now` are dropped. The
    /// observers are told once the list holds it.
    public func revoke(_ serial: String, until notAfter: Date, now: Date = Date()) {
        let observers = state.withLock { state in
            state.live[serial] = notAfter
            state.live = state.live.filter { $0.value >= now }
            return Array(state.observers.values)
        }
        for observer in observers { observer([serial]) }
    }

    /// Replaces the serials read from the revocation file (a reload read it again); live ones stay. The
    /// observers are told the file's serials.
    public func replaceFileSerials(_ serials: Set<String>) {
        let observers = state.withLock { state in
            state.fromFile = serials
            return Array(state.observers.values)
        }
        guard !serials.isEmpty else { return }
        for observer in observers { observer(serials) }
    }

    /// Every serial revoked now.
    public var serials: Set<String> {
        state.withLock { $0.fromFile.union($0.live.keys) }
    }

    /// Calls `observer` with the serials revoked from now on (outside the list's lock, on the revoking thread).
    /// - Returns: What ``stopObserving(_:)`` takes.
    public func observe(_ observer: @escaping Observer) -> Observation {
        state.withLock { state in
            defer { state.nextObserver += 1 }
            state.observers[state.nextObserver] = observer
            return Observation(id: state.nextObserver)
        }
    }

    /// Stops telling an observer.
    public func stopObserving(_ observation: Observation) {
        _ = state.withLock { $0.observers.removeValue(forKey: observation.id) }
    }
}
