/// Untrusted text made safe to print: what a Client says about itself (a `bye` reason, an error message) may hold
/// newlines or terminal escape codes that would forge log lines. Only printable ASCII passes; everything else is
/// written as `\u{…}`, and the text is cut at ``limit`` characters.
public enum LogText {
    /// The most characters kept (more are replaced by `…`). 200.
    public static let limit = 200

    /// `text` with control and non-ASCII characters escaped, in double quotes (`"a\u{0A}b"`).
    /// - Parameter text: Any string received from outside.
    public static func quoted(_ text: String) -> String { "\"" + escaped(text, quote: true) + "\"" }

    /// `text` with control and non-ASCII characters (and `\`) escaped, without quotes (`a\u{0A}b`).
    /// - Parameters:
    ///   - text: Any string received from outside.
    ///   - quote: Whether `"` is escaped too.
    public static func escaped(_ text: String, quote: Bool = false) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            count += 1
            switch scalar {
            case "\"" where quote: out += "\\\""
            case "\\": out += "\\\\"
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
        }
        return out
    }
}
