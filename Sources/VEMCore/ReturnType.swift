/// The type a property's value is converted to before it is reported (`return_type = int | float | str | bool |
/// json`): the configuration names it, the Client's plugins convert to it (VEMAgent's `convert`/`parse`).
public enum ReturnType: String, Hashable, Sendable, Codable, CaseIterable {
    /// A 64-bit signed integer.
    case int
    /// A finite double.
    case float
    /// Text, as the plugin printed it (trailing new lines dropped).
    case str
    /// A boolean (`yes/no`, `true/false`, `on/off`, `1/0`).
    case bool
    /// Any JSON value.
    case json
}
