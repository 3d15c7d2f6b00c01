import VEMAgent

/// `key=value` command arguments (`vm.create group=atlas vm=atlas-3 memory_mib=2048`).
struct CommandArguments {
    private(set) var values: [String: String] = [:]

    /// Parses the words, refusing unknown keys and repeated ones.
    init(_ words: [String], allowed: Set<String>, command: String) throws {
        for word in words {
            guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                throw AgentError(.badParameters, "\(command): argument '\(word)' is not key=value")
            }
            let key = String(word[..<eq])
            guard allowed.contains(key) else {
                throw AgentError(
                    .badParameters,
                    "\(command): unknown argument '\(key)' (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard values[key] == nil else {
                throw AgentError(.badParameters, "\(command): argument '\(key)' given twice")
            }
            values[key] = String(word[word.index(after: eq)...])
        }
    }

    subscript(_ key: String) -> String? { values[key] }

    func required(_ key: String, _ command: String) throws -> String {
        guard let v = values[key], !v.isEmpty else {
            throw AgentError(.badParameters, "\(command): missing argument '\(key)=…'")
        }
        return v
    }

    func int(_ key: String, _ command: String) throws -> Int? {
        guard let text = values[key] else { return nil }
        guard let v = Int(text), v > 0 else {
            throw AgentError(.badParameters, "\(command): '\(key)' must be a positive integer, got '\(text)'")
        }
        return v
    }

    func seconds(_ key: String, _ command: String) throws -> Duration? {
        guard let text = values[key] else { return nil }
        guard let v = Int(text), v >= 0 else {
            throw AgentError(.badParameters, "\(command): '\(key)' must be a number of seconds, got '\(text)'")
        }
        return .seconds(v)
    }

    func flag(_ key: String, _ command: String) throws -> Bool {
        guard let text = values[key] else { return false }
        switch text.lowercased() {
        case "yes", "true", "1", "on": return true
        case "no", "false", "0", "off": return false
        default: throw AgentError(.badParameters, "\(command): '\(key)' must be yes or no, got '\(text)'")
        }
    }
}
