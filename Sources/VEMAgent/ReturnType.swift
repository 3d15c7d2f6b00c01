import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Conversion of plugin output to a property's `return_type` (``VEMCore/ReturnType``).
///
/// Conversion never crashes: anything that does not convert becomes
/// `PropertyResult.failure(AgentError(.conversion, …))`.
///
/// | from | `int` | `float` | `str` | `bool` | `json` |
/// |---|---|---|---|---|---|
/// | text (file, exec) | strict integer parse | strict number parse (finite) | trailing newlines dropped | `true/false/yes/no/on/off/1/0` | parsed as JSON |
/// | `int` | itself | exact | decimal | `0` false, else true | itself |
/// | `float` | rounded to nearest | itself | decimal | `0` false, else true | itself |
/// | `bool` | 1/0 | 1/0 | `true`/`false` | itself | itself |
extension ReturnType {
    /// Converts a raw plugin value (often `.string` text) to this type.
    /// - Parameter value: What the plugin produced.
    /// - Returns: The converted value, or a `.conversion` failure saying what did not convert.
    public func convert(_ value: PropertyValue) -> PropertyResult {
        switch (self, value) {
        case (.json, _):
            if case .string(let text) = value { return Self.parseJSON(text) }
            return .success(value)
        case (_, .string(let text)):
            return parse(text)
        case (.int, .int), (.float, .float), (.bool, .bool):
            return .success(value)
        case (.int, .float(let d)):
            let r = d.rounded()
            guard r.isFinite, r >= -9.2e18, r <= 9.2e18 else { return fail(value, "out of the integer range") }
            return .success(.int(Int64(r)))
        case (.int, .bool(let b)):
            return .success(.int(b ? 1 : 0))
        case (.float, .int(let i)):
            return .success(.float(Double(i)))
        case (.float, .bool(let b)):
            return .success(.float(b ? 1 : 0))
        case (.bool, .int(let i)):
            return .success(.bool(i != 0))
        case (.bool, .float(let d)):
            return .success(.bool(d != 0))
        case (.str, .int(let i)):
            return .success(.string(String(i)))
        case (.str, .float(let d)):
            return .success(.string(String(d)))
        case (.str, .bool(let b)):
            return .success(.string(b ? "true" : "false"))
        case (_, .null), (_, .array), (_, .object):
            return fail(value, "a JSON value")
        }
    }

    /// Parses text (a file's content, a program's standard output) as this type.
    ///
    /// Surrounding white space is ignored for `int`, `float` and `bool`; `str` drops trailing new lines only.
    /// - Parameter text: The text.
    /// - Returns: The value, or a `.conversion` failure quoting (the start of) the text.
    public func parse(_ text: String) -> PropertyResult {
        let trimmed = text.trimmingWhitespace()
        switch self {
        case .str:
            var s = Substring(text)
            while s.last == "\n" || s.last == "\r\n" || s.last == "\r" { s = s.dropLast() }
            return .success(.string(String(s)))
        case .int:
            guard let i = Int64(trimmed) else { return failText(text, "an integer") }
            return .success(.int(i))
        case .float:
            guard let d = Double(trimmed), d.isFinite else { return failText(text, "a finite number") }
            return .success(.float(d))
        case .bool:
            switch trimmed.lowercased() {
            case "true", "yes", "on", "1": return .success(.bool(true))
            case "false", "no", "off", "0": return .success(.bool(false))
            default: return failText(text, "a boolean (true/false, yes/no, on/off, 1/0)")
            }
        case .json:
            return Self.parseJSON(text)
        }
    }

    static func parseJSON(_ text: String) -> PropertyResult {
        do {
            let v = try JSONDecoder().decode(PropertyValue.self, from: Data(text.utf8))
            return .success(v)
        } catch {
            return .failure(AgentError(.conversion, "\(quote(text)) is not valid JSON", cause: "\(error)"))
        }
    }

    private func failText(_ text: String, _ expected: String) -> PropertyResult {
        .failure(AgentError(.conversion, "\(quote(text)) is not \(expected)"))
    }

    private func fail(_ value: PropertyValue, _ why: String) -> PropertyResult {
        .failure(AgentError(.conversion, "\(value.jsonText.prefix(60)) does not convert to \(rawValue): \(why)"))
    }
}

/// Quotes at most 60 characters of text for an error message.
func quote(_ text: String) -> String {
    let t = text.trimmingWhitespace()
    let short = t.count > 60 ? String(t.prefix(60)) + "…" : t
    return "'" + short.replacing("\n", with: "\\n") + "'"
}
