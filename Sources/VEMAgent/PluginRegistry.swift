import VEMCore

/// The Client's plugins, by name: property plugins for the Reader, command plugins for the Runner.
///
/// Registration is open: later modules add `hypervisor.*` and `slurm.*` plugins with
/// ``registerProperty(_:)`` and ``registerCommand(_:)``. A registry is a value; build it once at
/// start-up and hand copies to the Reader and the Runner.
public struct PluginRegistry: Sendable {
    private var properties: [String: any PropertyPlugin] = [:]
    private var commands: [String: any CommandPlugin] = [:]

    /// Creates an empty registry.
    public init() {}

    /// A registry holding the built-in property plugins `ram`, `cpu`, `load`, `disk`, `net`,
    /// `uptime`, `file` and `exec`.
    /// - Parameter root: The directory that stands for `/` when reading `/proc` and other files
    ///   (tests pass a fixture tree; production passes `/`).
    public static func builtin(root: String = "/") -> PluginRegistry {
        var r = PluginRegistry()
        let fs = FileSystemRoot(root)
        let plugins: [any PropertyPlugin] = [
            RamPlugin(root: fs), CPUPlugin(root: fs), LoadPlugin(root: fs), DiskPlugin(root: fs),
            NetPlugin(root: fs), UptimePlugin(root: fs), FilePlugin(root: fs), ExecPropertyPlugin(),
        ]
        for p in plugins { r.properties[p.name] = p }
        return r
    }

    /// Adds a property plugin.
    /// - Throws: ``AgentError`` `.duplicatePlugin` when the name is taken.
    public mutating func registerProperty(_ plugin: any PropertyPlugin) throws {
        guard properties[plugin.name] == nil else {
            throw AgentError(.duplicatePlugin, "a property plugin named '\(plugin.name)' is already registered")
        }
        properties[plugin.name] = plugin
    }

    /// Adds a command plugin.
    /// - Throws: ``AgentError`` `.duplicatePlugin` when the name is taken.
    public mutating func registerCommand(_ plugin: any CommandPlugin) throws {
        guard commands[plugin.name] == nil else {
            throw AgentError(.duplicatePlugin, "a command plugin named '\(plugin.name)' is already registered")
        }
        commands[plugin.name] = plugin
    }

    /// The property plugin of that name, if any.
    public func propertyPlugin(named name: String) -> (any PropertyPlugin)? { properties[name] }

    /// The command plugin of that name, if any.
    public func commandPlugin(named name: String) -> (any CommandPlugin)? { commands[name] }

    /// The names of all property plugins, sorted.
    public var propertyPluginNames: [String] { properties.keys.sorted() }

    /// The names of all command plugins, sorted.
    public var commandPluginNames: [String] { commands.keys.sorted() }

    /// Reads one property: finds its plugin, runs it within the request's timeout and converts the raw
    /// value to the request's return type. Never throws: every problem is a failure value.
    /// - Parameters:
    ///   - request: What to read.
    ///   - now: The current time (for rates and timestamps).
    public func read(_ request: PropertyRequest, now: Double) async -> PropertyResult {
        guard let plugin = properties[request.plugin] else {
            var message = "no property plugin named '\(request.plugin)'"
            if let near = closestMatch(to: request.plugin, in: properties.keys) {
                message += "; did you mean '\(near)'?"
            }
            return .failure(AgentError(.unknownPlugin, message))
        }
        let context = PropertyContext(propertyName: request.name, now: now, timeout: request.timeout)
        let parameters = request.parameters
        do {
            let limit = plugin.enforcesTimeout ? request.timeout + .seconds(5) : request.timeout
            let raw = try await withTimeout(limit, what: "property '\(request.name)'") {
                try await plugin.read(parameters: parameters, context: context)
            }
            return request.returnType.convert(raw)
        } catch let error as AgentError {
            return .failure(error)
        } catch {
            return .failure(AgentError(.systemCall, "property '\(request.name)' failed", cause: "\(error)"))
        }
    }
}
