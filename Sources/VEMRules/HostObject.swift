/// An object the host hands to the language: the only way an expression reaches the outside.
///
/// The Manager implements this for clients, hosts, VMs, groups and for its action objects
/// (`sender`, `vm`, `policy`). Attributes are looked up by name at each access, so an
/// implementation should answer from a precomputed dictionary. Methods are attributes whose
/// value is a ``Value/function(_:)`` made from a ``HostFunction``.
public protocol HostObject: AnyObject, Sendable {
    /// The type name shown in messages and `type(x)` (`client`, `manager`, `sender`).
    var typeName: String { get }
    /// The value of an attribute, or nil when the object has no such attribute.
    /// - Throws: any error; it is reported as a ``RuleError`` with code ``RuleError/Code/host``.
    func attribute(named name: String) throws -> Value?
    /// The attribute names, for "did you mean" hints and `dir(x)`.
    var attributeNames: [String] { get }
    /// How the object prints (`<client h1>`).
    var repr: String { get }
}

extension HostObject {
    /// `<typeName>` by default.
    public var repr: String { "<\(typeName)>" }
}

/// A function implemented by the host: a method such as `sender.send_command` or a global such as `log`.
public struct HostFunction: Sendable {
    /// Keyword arguments in call order.
    public typealias Keywords = [(name: String, value: Value)]
    /// The body: positional and keyword arguments in, a result out.
    public typealias Body = @Sendable (_ positional: [Value], _ keyword: Keywords) throws -> Value

    /// The name shown in messages (`send_command`).
    public var name: String
    /// The implementation. Errors it throws are reported at the call's location; throw a
    /// ``RuleError`` to choose the code and message.
    public var body: Body

    /// Creates a host function.
    public init(name: String, _ body: @escaping Body) {
        self.name = name
        self.body = body
    }
}

extension Value {
    /// A host function as a callable value.
    public static func hostFunction(_ name: String, _ body: @escaping HostFunction.Body) -> Value {
        .function(Callable(host: HostFunction(name: name, body)))
    }
}
