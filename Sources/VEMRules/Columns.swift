import Synchronization

/// A host object whose list attributes can also be read column-wise: for one attribute name, the value of every
/// element of the list at once (`manager.clients` → every client's `ram_free`).
///
/// The compiler's fast paths (see `Compiler+FastPaths.swift`) use columns for comprehensions over such a list
/// with simple attribute filters (`[c for c in manager.clients if c.ram_free < 1000]`), for `[c.attr for c in …]`
/// and for `max`/`min` with `key=lambda c: c.attr`. A column must say exactly what reading the attribute of each
/// element would: an implementation builds it from ``HostObject/attribute(named:)`` of the list and of its
/// elements, and only for an object whose lists and elements do not change (a snapshot).
public protocol ColumnarHostObject: HostObject {
    /// The column of `attribute` over the elements of the list attribute `list`, or nil when `list` is not a list
    /// attribute of this object.
    func column(_ attribute: String, of list: String) -> Column?

    /// The number of elements of the list attribute `list`, or nil when it cannot say without building the list
    /// (then `len(R.list)` reads the list). When it answers, it must be what `len` of the list would give.
    func count(of list: String) -> Int?
}

extension ColumnarHostObject {
    /// Nil: `len(R.list)` reads the list.
    public func count(of list: String) -> Int? { nil }
}

/// One attribute of every element of a list, read once (see ``ColumnarHostObject``).
///
/// ``values`` is nil when some element is not an object, lacks the attribute, or fails to give it: the fast paths
/// then step aside and the general evaluation reports the error at the element where it happens.
public final class Column: Sendable {
    /// The list's elements.
    public let elements: [Value]
    /// Each element's attribute, when every element has it.
    public let values: [Value]?
    /// The values as integers, when every one is an `int`.
    public let ints: [Int64]?
    /// The values as floats, when every one is a `float` and none is NaN.
    public let floats: [Double]?

    /// Reads `attribute` of every element of `elements`.
    public init(_ attribute: String, of elements: [Value]) {
        self.elements = elements
        var values: [Value] = []
        values.reserveCapacity(elements.count)
        var ints: [Int64]? = []
        var floats: [Double]? = []
        ints?.reserveCapacity(elements.count)
        floats?.reserveCapacity(elements.count)
        for element in elements {
            guard case .object(let o) = element, let v = (try? o.attribute(named: attribute)) ?? nil else {
                self.values = nil
                self.ints = nil
                self.floats = nil
                return
            }
            values.append(v)
            switch v {
            case .int(let i):
                ints?.append(i)
                floats = nil
            case .float(let d) where !d.isNaN:
                floats?.append(d)
                ints = nil
            default:
                ints = nil
                floats = nil
            }
        }
        self.values = values
        self.ints = ints
        self.floats = floats
    }
}

/// Columns built at their first use and kept (for a ``ColumnarHostObject`` over frozen lists).
final class ColumnCache: Sendable {
    private let columns = Mutex<[String: [String: Column]]>([:])

    /// The column of `attribute` over `list`, built from `elements` when it is not cached yet.
    func column(_ attribute: String, of list: String, _ elements: () -> [Value]) -> Column {
        if let c = columns.withLock({ $0[list]?[attribute] }) { return c }
        let built = Column(attribute, of: elements())
        return columns.withLock { cache in
            if let c = cache[list]?[attribute] { return c }
            cache[list, default: [:]][attribute] = built
            return built
        }
    }
}
