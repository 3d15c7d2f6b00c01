import VEMAgent
import VEMConfig
import VEMCore

/// The properties of one loaded configuration: a ``VEMAgent/Reader`` for those collected every `ticks`
/// seconds, and one for `ticks = 0` properties (read only when the Manager asks, never scheduled).
public struct PropertyReaders: Sendable {
    /// Properties with `ticks > 0`.
    public let scheduled: Reader
    /// Properties with `ticks = 0`.
    public let onDemand: Reader
    /// Every property name, in definition order.
    public let names: [String]
    /// Each property's push policy.
    public let push: [String: PushPolicy]
    private let scheduledNames: Set<String>

    /// Builds the Readers.
    /// - Parameters:
    ///   - properties: The configured properties.
    ///   - registry: The property plugins.
    ///   - clock: The Client's clock.
    ///   - timeout: How long one read may take.
    ///   - jitter: The schedule's jitter fraction.
    ///   - seed: The schedule's seed (per Client).
    /// - Throws: ``ClientError`` `.setup` when the Reader refuses a definition.
    public init(
        properties: [VEMConfig.PropertyDefinition], registry: PluginRegistry, clock: any Timeline,
        timeout: Duration, jitter: Double, seed: UInt64
    ) throws(ClientError) {
        var scheduledDefinitions: [ScheduledProperty] = []
        var onDemandDefinitions: [ScheduledProperty] = []
        for p in properties {
            let request = PropertyMapping.request(for: p, timeout: timeout)
            if p.ticks > 0 {
                scheduledDefinitions.append(ScheduledProperty(request, ticks: Double(p.ticks)))
            } else {
                // Never collected on a schedule (collectDue is not called on this Reader); ticks only satisfies it.
                onDemandDefinitions.append(ScheduledProperty(request, ticks: 1))
            }
        }
        do {
            scheduled = try Reader(
                definitions: scheduledDefinitions, registry: registry, clock: clock, jitter: jitter, seed: seed)
            onDemand = try Reader(definitions: onDemandDefinitions, registry: registry, clock: clock, jitter: 0)
        } catch {
            throw ClientError(.setup, "error: cannot set up the reader: \(error)")
        }
        names = properties.map(\.name)
        push = Dictionary(properties.map { ($0.name, $0.push) }, uniquingKeysWith: { a, _ in a })
        scheduledNames = Set(scheduledDefinitions.map(\.name))
    }

    /// True when the property is defined.
    public func isDefined(_ name: String) -> Bool { push[name] != nil }

    /// The cached sample of a property, if it was ever read.
    public func lastSample(of name: String) async -> PropertySample? {
        await reader(for: name).lastSample(of: name)
    }

    /// Reads properties now (outside their schedule); empty `names` means all.
    /// - Returns: The samples in the order asked, and the names that are not defined.
    public func refresh(_ names: [String]) async -> (samples: [PropertySample], unknown: [String]) {
        let wanted = names.isEmpty ? self.names : names
        let unknown = wanted.filter { !isDefined($0) }
        let a = await scheduled.refresh(wanted.filter { scheduledNames.contains($0) }).updates
        let b = await onDemand.refresh(wanted.filter { isDefined($0) && !scheduledNames.contains($0) }).updates
        let byName = Dictionary((a + b).map { ($0.sample.name, $0.sample) }, uniquingKeysWith: { x, _ in x })
        return (wanted.compactMap { byName[$0] }, unknown)
    }

    private func reader(for name: String) -> Reader { scheduledNames.contains(name) ? scheduled : onDemand }
}

/// `get_property` as a command (through the Runner): reads the named properties now (none: all) and
/// publishes them. Output: a JSON object `{name: value}` (an error value is `{"error": "…"}`); `failed` when a
/// name is not defined.
struct ClientGetPropertyPlugin: CommandPlugin {
    let name = "get_property"
    let readers: PropertyReaders

    func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        let names = request.arguments.map { $0.trimmingWhitespace(newlines: false) }.filter { !$0.isEmpty }
        let (samples, unknown) = await readers.refresh(names)
        var object: [String: PropertyValue] = [:]
        for s in samples {
            switch s.result {
            case .success(let v): object[s.name] = v
            case .failure(let e): object[s.name] = .object(["error": .string(e.description)])
            }
        }
        var outcome = PluginOutcome(
            status: .ok, output: PropertyValue.object(object).jsonText, directive: .publish(samples))
        if !unknown.isEmpty {
            outcome.status = .failed
            outcome.error = "no property named " + unknown.map { "'\($0)'" }.joined(separator: ", ") + " on this client"
        }
        return outcome
    }
}
