import Synchronization
import VEMBus
import VEMProtocol
import VEMRules

/// The last reading of one property of one Client.
public struct PropertyEntry: Hashable, Sendable {
    /// The value (nil when the Client reported an error instead).
    public var value: JSON?
    /// The Client's error message, when reading the property failed.
    public var error: String?
    /// When the Manager received it (seconds since 1970, the Manager's clock).
    public var receivedAt: Double
}

/// What the Manager knows about one Client.
public struct ClientEntry: Hashable, Sendable {
    /// Who it is (its latest `hello`).
    public var identity: ClientIdentity
    /// Connected now.
    public var connected: Bool
    /// When the current (or last) connection was admitted.
    public var connectedSince: Double
    /// When the Manager last heard from it (join, property, event).
    public var lastSeen: Double
    /// Why it went away (when not connected).
    public var goneReason: String?
    /// Its properties by name.
    public var properties: [String: PropertyEntry]
}

/// The Manager's state: Clients, their properties, and counters of what arrived. Updated by the Listener,
/// read by TriggerWatch and the operator's API through immutable ``StateSnapshot``s (copy-on-write: taking
/// one costs a few reference-count increments).
public final class ManagerState: Sendable {
    private struct Data {
        var clients: [String: ClientEntry] = [:]
        /// The Clients the pool reads (``readByPool(_:)``), kept beside ``clients`` (the same entries),
        /// without a snapshot of every Client (a snapshot kept while Clients report makes the next report copy
        /// every entry of the dictionary it shares).
        var pool: [String: ClientEntry] = [:]
        var version: UInt64 = 0
        var propertyUpdates: UInt64 = 0
        var busEvents: UInt64 = 0
        var rejectedConnections: UInt64 = 0
        var lastErrors: [LoggedError] = []
    }

    private let data = Mutex(Data())
    /// How many errors ``recordError(_:at:source:)`` keeps.
    public static let errorHistory = 50

    /// An empty state.
    public init() {}

    /// A Client was admitted.
    public func clientJoined(_ identity: ClientIdentity, at now: Double) {
        data.withLock { data in
            data.busEvents += 1
            data.version += 1
            var entry = data.clients[identity.name] ?? ClientEntry(
                identity: identity, connected: true, connectedSince: now, lastSeen: now, goneReason: nil,
                properties: [:])
            if entry.identity.incarnation != identity.incarnation { entry.properties = [:] }
            entry.identity = identity
            entry.connected = true
            entry.connectedSince = now
            entry.lastSeen = now
            entry.goneReason = nil
            data.clients[identity.name] = entry
            data.pool[identity.name] = Self.readByPool(identity) ? entry : nil
        }
    }

    /// Whether the pool reads this Client (``poolSnapshot(at:)``): a Dom0 host, a batch Client, a VM's guest
    /// (a DomU Client naming its VM); not the other Clients, however many.
    public static func readByPool(_ identity: ClientIdentity) -> Bool {
        switch identity.role {
        case .dom0, .batch: true
        case .domU: identity.vmID != nil
        }
    }

    /// A Client left or was disconnected.
    public func clientGone(_ name: String, reason: String, at now: Double) {
        data.withLock { data in
            data.busEvents += 1
            data.version += 1
            data.clients[name]?.connected = false
            data.clients[name]?.goneReason = reason
            if data.pool[name] != nil {
                data.pool[name]?.connected = false
                data.pool[name]?.goneReason = reason
            }
        }
    }

    /// A connection was refused before admission.
    public func connectionRejected() {
        data.withLock { data in
            data.busEvents += 1
            data.rejectedConnections += 1
        }
    }

    /// A property report arrived.
    /// - Returns: The names of properties whose value changed.
    @discardableResult
    public func propertiesReported(_ report: PropertyReport, from name: String, at now: Double) -> [String] {
        record(report, from: name, at: now, listingChanges: true) ?? []
    }

    /// A property report arrived, for a caller that does not need the names of the properties whose value changed
    /// (the Listener, for every reply of every poll round): nothing is compared, nothing allocated.
    public func recordProperties(_ report: PropertyReport, from name: String, at now: Double) {
        _ = record(report, from: name, at: now, listingChanges: false)
    }

    /// A property report arrived from `identity`'s connection, recorded only if the state already holds that
    /// connection: the Client is connected with this identity (the same incarnation). Otherwise nothing changes
    /// and it returns false (its join, or its leaving, is still on its way to the state: the report waits behind
    /// it).
    public func recordPropertiesIfCurrent(_ report: PropertyReport, from identity: ClientIdentity, at now: Double)
        -> Bool
    {
        record(report, from: identity.name, at: now, listingChanges: false, current: identity) != nil
    }

    /// Any other message from `identity`'s connection: it was seen, if the state already holds that connection
    /// (see ``recordPropertiesIfCurrent(_:from:at:)``); false when not.
    public func seenIfCurrent(_ identity: ClientIdentity, at now: Double) -> Bool {
        data.withLock { data in
            guard let index = data.clients.index(forKey: identity.name),
                data.clients.values[index].connected, data.clients.values[index].identity == identity
            else { return false }
            data.busEvents += 1
            data.clients.values[index].lastSeen = now
            if let poolIndex = data.pool.index(forKey: identity.name) { data.pool.values[poolIndex].lastSeen = now }
            return true
        }
    }

    /// Records `report`; with `current`, only into a connected entry of that identity (nil when not).
    private func record(
        _ report: PropertyReport, from name: String, at now: Double, listingChanges: Bool,
        current: ClientIdentity? = nil
    ) -> [String]? {
        data.withLock { data in
            // Changed in place (no copy of the Client's entry or of its properties per report).
            guard let index = data.clients.index(forKey: name) else {
                if current != nil { return nil }
                data.busEvents += 1
                return []
            }
            if let current {
                guard data.clients.values[index].connected, data.clients.values[index].identity == current
                else { return nil }
            }
            data.busEvents += 1
            var changed: [String] = []
            data.clients.values[index].lastSeen = now
            let mirror = Self.readByPool(data.clients.values[index].identity)
            let poolIndex = mirror ? data.pool.index(forKey: name) : nil
            if let poolIndex { data.pool.values[poolIndex].lastSeen = now }
            for reading in report.readings {
                let new: PropertyEntry
                switch reading.outcome {
                case .value(let value): new = PropertyEntry(value: value, error: nil, receivedAt: now)
                case .error(let message): new = PropertyEntry(value: nil, error: message, receivedAt: now)
                }
                if let poolIndex { data.pool.values[poolIndex].properties[reading.name] = new }
                guard listingChanges else {
                    data.clients.values[index].properties[reading.name] = new
                    continue
                }
                let old = data.clients.values[index].properties.updateValue(new, forKey: reading.name)
                if old?.value != new.value || old?.error != new.error { changed.append(reading.name) }
            }
            data.propertyUpdates += UInt64(report.readings.count)
            data.version += 1
            return changed
        }
    }

    /// Any other message from a Client (an event): it was seen.
    public func clientSeen(_ name: String, at now: Double) {
        data.withLock { data in
            data.busEvents += 1
            data.clients[name]?.lastSeen = now
            if data.pool[name] != nil { data.pool[name]?.lastSeen = now }
        }
    }

    /// Records an error for `vem status` (trigger failures, journal errors, refused connections).
    public func recordError(_ message: String, at now: Double, source: String) {
        data.withLock { data in
            data.lastErrors.append(LoggedError(time: now, source: source, message: message))
            if data.lastErrors.count > Self.errorHistory { data.lastErrors.removeFirst() }
        }
    }

    /// Which of `names` ever joined (without a snapshot: a snapshot kept while Clients report makes the next
    /// report copy every Client's entry).
    public func joined(among names: some Sequence<String>) -> Set<String> {
        data.withLock { data in Set(names.filter { data.clients[$0] != nil }) }
    }

    /// An immutable copy of the state now, with only the Clients the pool reads (``readByPool(_:)``): at
    /// a rebalance, a `vm.list` and a tick (the Dom0 hosts' `hypervisor`, the batch Client's demand, the guests),
    /// without holding every Client's entry.
    public func poolSnapshot(at now: Double) -> StateSnapshot {
        data.withLock { data in
            StateSnapshot(
                takenAt: now, version: data.version, clients: data.pool, propertyUpdates: data.propertyUpdates,
                busEvents: data.busEvents, rejectedConnections: data.rejectedConnections, lastErrors: data.lastErrors)
        }
    }

    /// An immutable copy of the state now.
    public func snapshot(at now: Double) -> StateSnapshot {
        data.withLock { data in
            StateSnapshot(
                takenAt: now, version: data.version, clients: data.clients, propertyUpdates: data.propertyUpdates,
                busEvents: data.busEvents, rejectedConnections: data.rejectedConnections, lastErrors: data.lastErrors)
        }
    }
}

/// An error kept for the operator.
public struct LoggedError: Hashable, Sendable, Codable {
    /// When (seconds since 1970).
    public var time: Double
    /// Where: `trigger:NAME`, `journal`, `bus`.
    public var source: String
    /// What.
    public var message: String
}

/// The state at one moment: what one TriggerWatch pass evaluates against, and what the API shows.
public struct StateSnapshot: Sendable {
    /// When it was taken.
    public var takenAt: Double
    /// Increases with every change of the state.
    public var version: UInt64
    /// Every Client ever seen by this Manager process, by name.
    public var clients: [String: ClientEntry]
    /// Property readings received so far.
    public var propertyUpdates: UInt64
    /// Bus events handled so far.
    public var busEvents: UInt64
    /// Connections refused before admission.
    public var rejectedConnections: UInt64
    /// The latest errors, oldest first.
    public var lastErrors: [LoggedError]

    /// The connected Clients, sorted by name.
    public var connectedClients: [ClientEntry] { sorted(clients.indices.filter { clients[$0].value.connected }) }

    /// Every Client, sorted by name.
    public var allClients: [ClientEntry] { sorted(Array(clients.indices)) }

    /// The entries at `indices`, sorted by name: the indices are sorted, not the (large) entries.
    private func sorted(_ indices: [Dictionary<String, ClientEntry>.Index]) -> [ClientEntry] {
        indices.sorted { clients[$0].value.identity.name < clients[$1].value.identity.name }.map { clients[$0].value }
    }
}
