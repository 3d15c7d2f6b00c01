import VEMCore

/// A typed value as it travels on the wire: a property value, a command argument, an event attribute. It is
/// ``VEMCore/StructuredValue``, the one value type from a plugin to a trigger: scalars, lists and maps, each
/// carried as it is (no JSON text on the way).
public typealias WireValue = StructuredValue

/// A named value: a command argument (empty name for a positional one) or an event attribute. Order is
/// preserved on the wire.
public typealias NamedValue = VEMCore.NamedValue

extension StructuredValue {
    /// The wire tag of each case (see the wire format in ``WireFormat``). Tag 5 (JSON text, protocol version 1)
    /// is gone: version 2 carries lists and maps themselves.
    @usableFromInline
    enum Tag: UInt8 {
        case null = 0, bool = 1, int = 2, float = 3, string = 4, list = 6, map = 7
    }

    /// How deep lists and maps may nest on the wire (a frame nested deeper is malformed).
    public static let maximumWireDepth = 32
}
