import VEMCore

/// What to read: one property as the configuration defines it, without its schedule.
///
/// The integrator maps the configuration's `[name] command = … parameters = … return_type = …`
/// onto this type; `command` is the plugin name.
public struct PropertyRequest: Hashable, Sendable, Codable {
    /// The property's name (the INI section name, `ram_free`).
    public var name: String
    /// The property plugin to use (the INI `command`, `ram`).
    public var plugin: String
    /// The plugin's parameters (the INI `parameters`, split into a list).
    public var parameters: [String]
    /// The type the raw value is converted to.
    public var returnType: ReturnType
    /// How long the read may take (only plugins that run programs can take long). Default 10 s.
    public var timeout: Duration

    /// Creates a request.
    public init(
        name: String, plugin: String, parameters: [String] = [], returnType: ReturnType,
        timeout: Duration = .seconds(10)
    ) {
        self.name = name
        self.plugin = plugin
        self.parameters = parameters
        self.returnType = returnType
        self.timeout = timeout
    }
}

/// What a property plugin is told besides its parameters.
public struct PropertyContext: Hashable, Sendable {
    /// The name of the property being read. Stateful plugins (`cpu`, `net`) key their previous
    /// sample by it, so two properties on the same counter do not disturb each other's deltas.
    public var propertyName: String
    /// The current time from the Client's ``VEMCore/Timeline``, in seconds.
    public var now: Double
    /// How long the read may take.
    public var timeout: Duration

    /// Creates a context.
    public init(propertyName: String, now: Double, timeout: Duration = .seconds(10)) {
        self.propertyName = propertyName
        self.now = now
        self.timeout = timeout
    }
}

/// A property plugin: the code behind a property's `command`.
///
/// A plugin returns a *raw* value (text from a file or a program as `.string`, numbers as `.int`
/// or `.float`); the registry converts it to the property's ``ReturnType``. A plugin throws an
/// ``AgentError`` when it cannot produce a value; the registry turns it into a failure value.
/// Plugins must honour task cancellation.
public protocol PropertyPlugin: Sendable {
    /// The name used in `command = …` (`ram`, `hypervisor.domains`).
    var name: String { get }

    /// True when the plugin itself stops its work at ``PropertyContext/timeout``; the registry then only
    /// applies a later backstop. Defaults to false.
    var enforcesTimeout: Bool { get }

    /// Reads the value.
    /// - Parameters:
    ///   - parameters: The property's parameters.
    ///   - context: The property name, the current time and the timeout.
    /// - Returns: The raw value.
    /// - Throws: ``AgentError`` when no value can be produced.
    func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue
}

extension PropertyPlugin {
    /// False: the registry stops the plugin (by cancelling it) at the property's timeout.
    public var enforcesTimeout: Bool { false }
}
