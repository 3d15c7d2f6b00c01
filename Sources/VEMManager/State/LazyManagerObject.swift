import Synchronization
import VEMRules

/// The `manager` global of one trigger pass, built when an expression first reads it: a pass whose triggers never
/// look at `manager` (`expr = { True }`, `cmd = { policy.rebalance() }`) takes no snapshot of the state and builds
/// no ``WorldView`` over every Client. Built once, it is the same object for every trigger of the pass. Its lists'
/// columns are the built object's, so the trigger language's columnar fast paths run over it (`vem bench rules`).
final class LazyManagerObject: ColumnarHostObject {
    private let build: @Sendable () -> any HostObject
    private let built = Mutex<(any HostObject)?>(nil)

    /// A `manager` that `build` makes at its first use.
    init(_ build: @escaping @Sendable () -> any HostObject) {
        self.build = build
    }

    /// The object, built now if it was not yet.
    var object: any HostObject {
        if let object = built.withLock({ $0 }) { return object }
        let object = build()
        return built.withLock { existing in
            if let existing { return existing }
            existing = object
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
}
