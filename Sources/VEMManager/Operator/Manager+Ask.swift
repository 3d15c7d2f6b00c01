import Foundation
import VEMBus
import VEMProtocol
import VEMRules

#if canImport(Glibc)
    import Glibc
#endif

/// One line of `vem ask`'s answer stream (`POST /v1/ask`, one JSON object a line): a Client's answer as it
/// arrives, or, last, who did not answer.
public struct AskLine: Hashable, Sendable, Codable {
    /// The Client that answered (nil on the last line).
    public var client: String?
    /// Its readings (nil on the last line).
    public var readings: [PropertyRow]?
    /// Seconds from the question to this line.
    public var elapsed: Double
    /// On the last line: the Clients asked.
    public var asked: Int?
    /// On the last line: the Clients asked that did not answer within the time-out, by name.
    public var missing: [String]?
}

extension Manager {
    /// `vem ask`: asks the connected Clients whose names match `pattern` (a shell glob, `h*`; nil: all) for
    /// `names` now, in one property round, and tells `onLine` of each answer as it arrives, then of the Clients
    /// that did not answer within `timeout`. The answers also update the Manager's state (as a poll's would).
    public func ask(
        _ names: [String], clients pattern: String?, timeout: Duration, onLine: @escaping @Sendable (AskLine) -> Void
    ) async -> AskLine {
        let started = ContinuousClock.now
        let connected = state.snapshot(at: clock.now()).connectedClients.map(\.identity.name)
        let chosen = Set(connected.filter { name in pattern.map { Self.glob($0, matches: name) } ?? true })
        let state = self.state
        let clock = self.clock
        let seconds = { @Sendable () -> Double in
            let d = ContinuousClock.now - started
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        let result = await bus.collectProperties(names, from: .clients(chosen), timeout: timeout) { client, report in
            let now = clock.now()
            state.propertiesReported(report, from: client, at: now)
            let rows = report.readings.map { reading -> PropertyRow in
                switch reading.outcome {
                case .value(let v): PropertyRow(client: client, name: reading.name, value: v, error: nil, age: 0)
                case .error(let e): PropertyRow(client: client, name: reading.name, value: nil, error: e, age: 0)
                }
            }
            onLine(AskLine(client: client, readings: rows, elapsed: seconds()))
        }
        return AskLine(elapsed: seconds(), asked: chosen.count, missing: result.missing)
    }

    /// Whether `name` matches the shell glob `pattern` (`*`, `?`, `[…]`).
    static func glob(_ pattern: String, matches name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
