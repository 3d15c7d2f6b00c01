import Foundation

/// `vem ask`'s reading of the answer stream (``OperatorClient/streamLines(_:query:timeout:)``): the text to print
/// for each line, and the Clients that did not answer.
public struct AskTranscript: Sendable {
    /// Print each line as the Manager sent it (`--json`) instead of as text.
    public let json: Bool
    /// The time-out asked for, in seconds (named in the text of the last line).
    public let timeout: Double
    /// The Clients that did not answer, by name (from the last line).
    public private(set) var missing: [String] = []

    /// A transcript printing JSON (`json`) or text.
    public init(json: Bool, timeout: Double) { (self.json, self.timeout) = (json, timeout) }

    /// What is wrong with `vem ask`'s time-out in seconds (more than 0, at most 600), or nil.
    public static func problem(timeout: Double) -> String? {
        timeout > 0 && timeout <= 600 ? nil : "--timeout must be between 0 and 600 seconds"
    }

    /// The query of `POST /v1/ask` for these properties (empty: all), Clients (a shell glob; nil: all) and
    /// time-out in seconds.
    public static func query(properties: [String], clients: String?, timeout: Double) -> [String: String] {
        var query = ["names": properties.joined(separator: ","), "timeout": String(timeout)]
        if let clients { query["clients"] = clients }
        return query
    }

    /// Takes one line of the stream; returns what to print for it (``AskLine/text(timeout:)``, or the line itself
    /// with ``json``), or nil when it is no ``AskLine`` (never with ``json``).
    public mutating func take(_ raw: String) -> String? {
        let line = try? JSONDecoder().decode(AskLine.self, from: Data(raw.utf8))
        if json {
            missing += line?.missing ?? []
            return raw
        }
        guard let line else { return nil }
        if line.client == nil { missing = line.missing ?? [] }
        return line.text(timeout: timeout)
    }
}
