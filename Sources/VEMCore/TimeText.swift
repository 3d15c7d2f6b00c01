import Foundation

/// `2026-11-29 08:50:04` (UTC) for a time in seconds since 1970.
public func formatTime(_ seconds: Double?) -> String {
    guard let seconds else { return "-" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
}

/// A human age for a number of seconds: `850ms`, `5.5s`, `3m4s`, `2d3h` (the two largest units past a minute).
public func formatAge(_ seconds: Double) -> String {
    if seconds < 1 { return "\(Int((max(0, seconds) * 1000).rounded()))ms" }
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    var rest = Int(seconds.rounded())
    var parts: [String] = []
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size || !parts.isEmpty {
        parts.append("\(rest / size)\(unit)")
        rest %= size
        if parts.count == 2 { break }
    }
    return parts.joined()
}
