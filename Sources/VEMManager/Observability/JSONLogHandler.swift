import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line (`vem manager --log-format json`, `vem agent
/// --log-format json`): `{"time":"2026-12-07T10:00:00.123Z","level":"info","label":"vem.manager",
/// "message":"…","metadata":{…},"source":"VEMManager"}`, keys sorted.
///
/// Secrets are never written: a metadata value whose key names one (``secretKeys``: `token`, `password`,
/// `secret`, `credential`, `key`) is replaced by `[redacted]`, nested values too.
public struct JSONLogHandler: LogHandler {
    /// Parts of metadata keys whose values are never logged (case-insensitive substring).
    public static let secretKeys = ["token", "password", "secret", "credential", "passphrase", "key"]

    /// Where lines go.
    public typealias Sink = @Sendable (String) -> Void

    /// The label (the logger's name).
    public let label: String
    /// The least level written.
    public var logLevel: Logger.Level = .info
    /// Metadata set on the logger.
    public var metadata: Logger.Metadata = [:]
    let sink: Sink

    /// A handler writing to `sink` (default: standard error, one `write` per line).
    public init(label: String, sink: @escaping Sink = JSONLogHandler.standardError) {
        self.label = label
        self.sink = sink
    }

    /// Writes a line to standard error with one `write(2)`, so lines from several threads never interleave.
    public static let standardError: Sink = { line in
        let data = Data((line + "\n").utf8)
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// Metadata by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var object: [String: Any] = [
            "time": Self.timestamp(Date()), "level": event.level.rawValue, "label": label,
            "message": event.message.description, "source": event.source,
        ]
        if !merged.isEmpty { object["metadata"] = Self.redacted(merged) }
        sink(Self.line(object))
    }

    /// `object` as one line of JSON (sorted keys; control characters escaped, so never more than one line).
    static func line(_ object: [String: Any]) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return #"{"message":"unencodable log line"}"# }
        return String(decoding: data, as: UTF8.self)
    }

    /// Metadata as JSON values, secrets replaced.
    static func redacted(_ metadata: Logger.Metadata) -> [String: Any] {
        var out: [String: Any] = [:]
        for (key, value) in metadata {
            let lowered = key.lowercased()
            out[key] = secretKeys.contains(where: lowered.contains) ? "[redacted]" : json(value)
        }
        return out
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): a.map(json)
        case .dictionary(let d): redacted(d)
        }
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let ms = Int((date.timeIntervalSince1970 - Double(t)) * 1000)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), ms)
    }
}
