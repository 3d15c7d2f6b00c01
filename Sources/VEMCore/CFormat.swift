#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `printf`-style formatting without Foundation: `cFormat("%6.2f %%", share)`, `cFormat("%02x", byte)`.
///
/// `String(format:)` lives in Foundation (with its internationalisation and ICU); the modules a guest's `vem-agent`
/// links import only FoundationEssentials (issue 21), so they format numbers with C's `vsnprintf` instead.
/// - Parameters:
///   - format: A C format string (its arguments must match it, as with `printf`).
///   - arguments: The values (`Double`, `Int`, `Int32`, `UInt8`, …).
/// - Returns: The formatted text.
public func cFormat(_ format: String, _ arguments: any CVarArg...) -> String {
    var capacity = 64
    while true {
        var buffer = [CChar](repeating: 0, count: capacity)
        let needed = withVaList(arguments) { list in
            Int(buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, list) })
        }
        if needed < 0 { return "" }
        if needed < capacity {
            return String(decoding: buffer.prefix(needed).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        capacity = needed + 1
    }
}
