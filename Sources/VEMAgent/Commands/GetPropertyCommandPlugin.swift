/// The `get_property` command: reads the named properties now, outside their schedule.
///
/// Arguments: property names as defined in the Client's configuration; none means all. The Manager
/// can only name configured properties, never define new ones. Outcome: `ok` with a JSON object
/// `{name: value}` as output (an error value appears as `{"error": "…"}`) and the directive
/// ``AgentDirective/publish(_:)`` carrying the samples, which the hosting agent sends as `property`
/// messages; `failed` (after reading the known ones) when some names are not defined.
public struct GetPropertyCommandPlugin: CommandPlugin {
    /// `get_property`.
    public let name = "get_property"
    private let reader: Reader

    /// Creates the plugin.
    /// - Parameter reader: The Reader whose properties it refreshes.
    public init(reader: Reader) { self.reader = reader }

    /// Refreshes the properties.
    public func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
        let names = request.arguments.map { $0.trimmingWhitespace(newlines: false) }.filter { !$0.isEmpty }
        let (updates, unknown) = await reader.refresh(names)
        var object: [String: PropertyValue] = [:]
        for u in updates {
            switch u.sample.result {
            case .success(let v): object[u.sample.name] = v
            case .failure(let e): object[u.sample.name] = .object(["error": .string(e.description)])
            }
        }
        let samples = updates.map(\.sample)
        var outcome = PluginOutcome(
            status: .ok, output: PropertyValue.object(object).jsonText, directive: .publish(samples))
        if !unknown.isEmpty {
            outcome.status = .failed
            outcome.error = "no property named " + unknown.map { "'\($0)'" }.joined(separator: ", ") + " on this client"
        }
        return outcome
    }
}
