import VEMAgent

/// The named arguments of a `vm.*` command as the Manager sent them (`vm.create(group: "atlas", vm: "atlas-3",
/// memory_mib: 2048)`), read with the type each one needs. Unknown names were refused by the Runner (each
/// plugin lists its ``VEMAgent/CommandPlugin/options``).
struct CommandArguments {
    private let values: [String: PropertyValue]

    /// The request's named arguments; positional ones are refused.
    init(_ request: CommandRequest, command: String) throws {
        guard request.arguments.isEmpty else {
            throw AgentError(
                .badParameters,
                "\(command): takes named arguments only (got \(request.arguments.count) positional: "
                    + "\(request.arguments.prefix(3).joined(separator: " ")))")
        }
        values = request.options
    }

    /// A text argument (a number is taken as its decimal text).
    subscript(_ key: String) -> String? {
        switch values[key] {
        case .string(let s)?: s
        case .int(let i)?: String(i)
        default: nil
        }
    }

    func required(_ key: String, _ command: String) throws -> String {
        guard let v = self[key], !v.isEmpty else {
            throw AgentError(.badParameters, "\(command): missing argument '\(key)'")
        }
        return v
    }

    func int(_ key: String, _ command: String) throws -> Int? {
        guard let value = values[key] else { return nil }
        guard let v = Self.integer(value), v > 0 else {
            throw AgentError(.badParameters, "\(command): '\(key)' must be a positive integer, got \(value.jsonText)")
        }
        return v
    }

    func seconds(_ key: String, _ command: String) throws -> Duration? {
        guard let value = values[key] else { return nil }
        guard let v = Self.integer(value), v >= 0 else {
            throw AgentError(.badParameters, "\(command): '\(key)' must be a number of seconds, got \(value.jsonText)")
        }
        return .seconds(v)
    }

    func flag(_ key: String, _ command: String) throws -> Bool {
        switch values[key] {
        case nil: return false
        case .bool(let b)?: return b
        case .string(let s)? where ["yes", "true", "1", "on"].contains(s.lowercased()): return true
        case .string(let s)? where ["no", "false", "0", "off"].contains(s.lowercased()): return false
        case let value?:
            throw AgentError(.badParameters, "\(command): '\(key)' must be true or false, got \(value.jsonText)")
        }
    }

    private static func integer(_ value: PropertyValue) -> Int? {
        switch value {
        case .int(let i): Int(exactly: i)
        case .float(let d): Int(exactly: d)
        case .string(let s): Int(s)
        default: nil
        }
    }
}
