import Synchronization
import VEMRules

/// The `manager` global of one trigger pass, built when an expression first reads it: a pass whose triggers never
/// look at `manager` (`expr = { True }`, `cmd = { policy.rebalance() }`) takes no snapshot of the state and builds
/// no ``WorldView`` over every Client. Built once, it is the same object for every trigger of the pass. Its lists'
/// columns are the built object's, so the trigger language's columnar fast paths run over it (`vem bench rules`).
///
/// `len(manager.clients)` (the default `vem.poll`'s condition) builds nothing either: it counts the connected
/// Clients of the pass's state snapshot, which the object keeps and builds from if a later read needs it, so the
/// count and the list agree.
final class LazyManagerObject: ColumnarHostObject {
    private let take: @Sendable () -> StateSnapshot?
    private let build: @Sendable (StateSnapshot?) -> any HostObject
    private let built = Mutex<(any HostObject)?>(nil)
    private let taken = Mutex<StateSnapshot?>(nil)

    /// A `manager` that `build` makes at its first use (it counts no list without building).
    init(_ build: @escaping @Sendable () -> any HostObject) {
        take = { nil }
        self.build = { _ in build() }
    }

    /// A `manager` over the state snapshot `snapshot` takes (once, at the first read of the pass): `build` makes
    /// the object from it at the first read that needs the lists; `len(manager.clients)` only counts its connected
    /// Clients.
    init(
        snapshot: @escaping @Sendable () -> StateSnapshot,
        build: @escaping @Sendable (StateSnapshot) -> any HostObject
    ) {
        take = snapshot
        self.build = { taken in build(taken ?? snapshot()) }
    }

    /// The pass's state snapshot, taken now if it was not yet (nil for an object made from a plain `build`).
    private var snapshot: StateSnapshot? {
        taken.withLock { taken in
            if taken == nil { taken = take() }
            return taken
        }
    }

    /// The object, built now if it was not yet.
    var object: any HostObject {
        if let object = built.withLock({ $0 }) { return object }
        let object = build(snapshot)
        return built.withLock { existing in
            if let existing { return existing }
            existing = object
            // The object holds what it needs: the snapshot's storage need not outlive the pass's build.
            taken.withLock { $0 = nil }
            return object
        }
    }

    /// Whether an expression read it (tests).
    var isBuilt: Bool { built.withLock { $0 != nil } }

    var typeName: String { "manager" }
    var attributeNames: [String] { object.attributeNames }
    var repr: String { object.repr }
    func attribute(named name: String) throws -> Value? { try object.attribute(named: name) }
    func column(_ attribute: String, of list: String) -> Column? {
        (object as? any ColumnarHostObject)?.column(attribute, of: list)
    }

    /// `len(manager.clients)` without building: the connected Clients of the pass's snapshot (what
    /// ``WorldView/clients`` lists). Other lists, and an object made from a plain `build`, are built and counted.
    func count(of list: String) -> Int? {
        if let object = built.withLock({ $0 }) { return (object as? any ColumnarHostObject)?.count(of: list) }
        guard list == "clients", let snapshot else { return (object as? any ColumnarHostObject)?.count(of: list) }
        let clients = snapshot.clients
        return clients.indices.reduce(0) { $0 + (clients[$1].value.connected ? 1 : 0) }
    }
}
