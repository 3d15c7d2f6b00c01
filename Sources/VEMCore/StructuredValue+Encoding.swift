/// A `Codable` type as a ``StructuredValue`` and back, with no text in between: how a plugin reports a typed
/// record (a batch snapshot) and the Manager reads it back.
///
/// Integers become `.int`, other numbers `.float`, `nil` optionals are left out of maps (as `JSONEncoder` does),
/// and decoding accepts a `.float` with an integral value where an integer is expected (and the reverse).
extension StructuredValue {
    /// Encodes `value` as a structured value.
    /// - Throws: `EncodingError` when a value does not fit (an unsigned integer above `Int64.max`).
    public init(encoding value: some Encodable) throws {
        let slot = Slot()
        try value.encode(to: SlotEncoder(slot: slot, codingPath: []))
        self = slot.value
    }

    /// Decodes a `T` from this value.
    /// - Throws: `DecodingError` when the value does not have `T`'s shape.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try T(from: ValueDecoder(value: self, codingPath: []))
    }
}

// MARK: Encoding

/// Where an encoder writes; containers write into it after their parent made it.
private final class Slot {
    enum Content {
        case empty
        case scalar(StructuredValue)
        case list([Slot])
        case map([String: Slot])
    }

    var content = Content.empty

    var value: StructuredValue {
        switch content {
        case .empty: .null
        case .scalar(let v): v
        case .list(let slots): .array(slots.map(\.value))
        case .map(let slots): .object(slots.mapValues(\.value))
        }
    }

    func makeMap() {
        if case .map = content { return }
        content = .map([:])
    }

    func makeList() {
        if case .list = content { return }
        content = .list([])
    }

    func child(_ key: String) -> Slot {
        makeMap()
        let slot = Slot()
        if case .map(var slots) = content {
            slots[key] = slot
            content = .map(slots)
        }
        return slot
    }

    func append() -> Slot {
        makeList()
        let slot = Slot()
        if case .list(var slots) = content {
            slots.append(slot)
            content = .list(slots)
        }
        return slot
    }

    var count: Int {
        if case .list(let slots) = content { return slots.count }
        return 0
    }

    /// Encodes a value into this slot: scalars directly, anything else through its `encode(to:)`.
    func encode(_ value: some Encodable, codingPath: [any CodingKey]) throws {
        if let scalar = try Self.scalar(value, codingPath: codingPath) {
            content = .scalar(scalar)
        } else {
            try value.encode(to: SlotEncoder(slot: self, codingPath: codingPath))
        }
    }

    static func scalar(_ value: Any, codingPath: [any CodingKey]) throws -> StructuredValue? {
        switch value {
        case let v as StructuredValue: return v
        case let v as Bool: return .bool(v)
        case let v as String: return .string(v)
        case let v as Double: return .float(v)
        case let v as Float: return .float(Double(v))
        case let v as Int: return .int(Int64(v))
        case let v as Int8: return .int(Int64(v))
        case let v as Int16: return .int(Int64(v))
        case let v as Int32: return .int(Int64(v))
        case let v as Int64: return .int(v)
        case let v as UInt8: return .int(Int64(v))
        case let v as UInt16: return .int(Int64(v))
        case let v as UInt32: return .int(Int64(v))
        case let v as UInt: return try unsigned(UInt64(v), codingPath)
        case let v as UInt64: return try unsigned(v, codingPath)
        default: return nil
        }
    }

    private static func unsigned(_ v: UInt64, _ codingPath: [any CodingKey]) throws -> StructuredValue {
        guard let i = Int64(exactly: v) else {
            throw EncodingError.invalidValue(v, .init(codingPath: codingPath, debugDescription: "\(v) is too large"))
        }
        return .int(i)
    }
}

private struct SlotEncoder: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        slot.makeMap()
        return KeyedEncodingContainer(KeyedSlot<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        slot.makeList()
        return ListSlot(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleSlot(slot: slot, codingPath: codingPath) }
}

private struct KeyedSlot<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { slot.child(key.stringValue).content = .scalar(.null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try slot.child(key.stringValue).encode(value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        SlotEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        SlotEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        SlotEncoder(slot: slot.child("super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        SlotEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct ListSlot: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int { slot.count }

    mutating func encodeNil() throws { slot.append().content = .scalar(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = IndexKey(count)
        try slot.append().encode(value, codingPath: codingPath + [index])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let index = IndexKey(count)
        return SlotEncoder(slot: slot.append(), codingPath: codingPath + [index]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let index = IndexKey(count)
        return SlotEncoder(slot: slot.append(), codingPath: codingPath + [index]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let index = IndexKey(count)
        return SlotEncoder(slot: slot.append(), codingPath: codingPath + [index])
    }
}

private struct SingleSlot: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.content = .scalar(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws { try slot.encode(value, codingPath: codingPath) }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { intValue.map(String.init) ?? "" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

private struct NameKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

// MARK: Decoding

private struct ValueDecoder: Decoder {
    let value: StructuredValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(
            Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.typeName)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let map) = value else { throw mismatch("a dict") }
        return KeyedDecodingContainer(KeyedValues<Key>(map: map, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let list) = value else { throw mismatch("a list") }
        return ListValues(list: list, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
}

extension ValueDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == StructuredValue.self, let v = value as? T { return v }
        if let scalar = try scalar(T.self) { return scalar }
        return try T(from: self)
    }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let exact: I? =
            switch value {
            case .int(let i): I(exactly: i)
            case .float(let d): I(exactly: d)
            default: throw mismatch("an integer")
            }
        guard let exact else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "\(value) does not fit \(I.self)"))
        }
        return exact
    }

    private func number() throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: throw mismatch("a number")
        }
    }

    private func scalar<T>(_ type: T.Type) throws -> T? {
        let decoded: Any
        switch type {
        case is Bool.Type:
            guard case .bool(let b) = value else { throw mismatch("a bool") }
            decoded = b
        case is String.Type:
            guard case .string(let s) = value else { throw mismatch("a str") }
            decoded = s
        case is Double.Type: decoded = try number()
        case is Float.Type: decoded = Float(try number())
        case is Int.Type: decoded = try integer(Int.self)
        case is Int8.Type: decoded = try integer(Int8.self)
        case is Int16.Type: decoded = try integer(Int16.self)
        case is Int32.Type: decoded = try integer(Int32.self)
        case is Int64.Type: decoded = try integer(Int64.self)
        case is UInt.Type: decoded = try integer(UInt.self)
        case is UInt8.Type: decoded = try integer(UInt8.self)
        case is UInt16.Type: decoded = try integer(UInt16.self)
        case is UInt32.Type: decoded = try integer(UInt32.self)
        case is UInt64.Type: decoded = try integer(UInt64.self)
        default: return nil
        }
        return decoded as? T
    }
}

private struct KeyedValues<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let map: [String: StructuredValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { map.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { map[key.stringValue] != nil }

    func child(_ key: any CodingKey) throws -> ValueDecoder {
        guard let value = map[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "no '\(key.stringValue)' in the dict"))
        }
        return ValueDecoder(value: value, codingPath: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).decodeNil() }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { try child(NameKey("super")) }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct ListValues: UnkeyedDecodingContainer {
    let list: [StructuredValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { list.count }
    var isAtEnd: Bool { currentIndex >= list.count }

    init(list: [StructuredValue], codingPath: [any CodingKey]) {
        self.list = list
        self.codingPath = codingPath
    }

    mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self, .init(codingPath: codingPath, debugDescription: "the list has only \(list.count) items"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: list[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, list[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}
