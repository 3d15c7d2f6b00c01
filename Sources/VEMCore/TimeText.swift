#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `2026-11-29 08:50:04` (UTC) for a time in seconds since 1970.
public func formatTime(_ seconds: Double?) -> String {
    guard let seconds else { return "-" }
    guard seconds.isFinite, abs(seconds) < 1e15 else { return "-" }
    var time = time_t(seconds.rounded(.down))
    var parts = tm()
    guard gmtime_r(&time, &parts) != nil else { return "-" }
    return cFormat(
        "%04d-%02d-%02d %02d:%02d:%02d", Int32(parts.tm_year + 1900), Int32(parts.tm_mon + 1), Int32(parts.tm_mday),
        Int32(parts.tm_hour), Int32(parts.tm_min), Int32(parts.tm_sec))
}

/// A human age for a number of seconds: `850ms`, `5.5s`, `3m4s`, `2d3h` (the two largest units past a minute).
public func formatAge(_ seconds: Double) -> String {
    if seconds < 1 { return "\(Int((max(0, seconds) * 1000).rounded()))ms" }
    if seconds < 60 { return cFormat("%.1fs", seconds) }
    var rest = Int(seconds.rounded())
    var parts: [String] = []
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size || !parts.isEmpty {
        parts.append("\(rest / size)\(unit)")
        rest %= size
        if parts.count == 2 { break }
    }
    return parts.joined()
}
