/// Checks of the words VEM puts into Slurm commands. Commands are argv arrays (no shell ever sees them), but
/// `scontrol` parses `Key=Value` words and host lists itself, so names must not smuggle in a `=`, a space,
/// a comma or a bracket.
public enum SlurmName {
    /// The longest node name accepted (a host name label is at most 63 bytes).
    public static let maximumLength = 63
    /// The longest drain reason accepted.
    public static let maximumReasonLength = 200

    /// Checks a node name: 1–63 ASCII letters, digits, `-`, `_` or `.`, starting with a letter or digit.
    /// - Throws: ``SlurmError`` `.invalidArgument` saying what is wrong.
    public static func checkNodeName(_ name: String) throws {
        try checkWord(name, what: "node name", extra: "-_.")
    }

    /// Checks a node feature: 1–63 ASCII letters, digits, `_`, `-` or `.`, starting with a letter or digit.
    /// - Throws: ``SlurmError`` `.invalidArgument`.
    public static func checkFeature(_ feature: String) throws {
        try checkWord(feature, what: "feature", extra: "-_.")
    }

    /// Checks a node address (`NodeAddr`): an IPv4 address, an IPv6 address or a host name
    /// (letters, digits, `-`, `.`; at most 253 characters).
    /// - Throws: ``SlurmError`` `.invalidArgument`.
    public static func checkAddress(_ address: String) throws {
        guard !address.isEmpty, address.count <= 253 else {
            throw SlurmError(.invalidArgument, "node address '\(address.prefix(80))' is empty or too long")
        }
        let isIPv6 = address.contains(":") && address.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        let isName =
            address.first.map(isAlphanumeric) == true
            && address.allSatisfy { isAlphanumeric($0) || $0 == "-" || $0 == "." }
        guard isIPv6 || isName else {
            throw SlurmError(.invalidArgument, "node address '\(address.prefix(80))' is not an IP address or host name")
        }
    }

    /// Checks a drain reason: 1–200 printable characters, no control characters and no `"`.
    /// - Throws: ``SlurmError`` `.invalidArgument`.
    public static func checkReason(_ reason: String) throws {
        guard reason.contains(where: { !$0.isWhitespace }) else {
            throw SlurmError(.invalidArgument, "a drain reason is required")
        }
        guard reason.count <= maximumReasonLength else {
            throw SlurmError(.invalidArgument, "the drain reason is longer than \(maximumReasonLength) characters")
        }
        guard !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\"" })
        else { throw SlurmError(.invalidArgument, "the drain reason contains a control character or a quote") }
    }

    /// True for characters that may appear in a feature name.
    public static func isFeatureCharacter(_ c: Character) -> Bool { isAlphanumeric(c) || "-_.".contains(c) }

    static func checkWord(_ word: String, what: String, extra: String) throws {
        guard !word.isEmpty else { throw SlurmError(.invalidArgument, "the \(what) is empty") }
        guard word.count <= maximumLength else {
            throw SlurmError(.invalidArgument, "the \(what) '\(word.prefix(80))…' is longer than \(maximumLength)")
        }
        guard let first = word.first, isAlphanumeric(first) else {
            throw SlurmError(.invalidArgument, "the \(what) '\(word)' must start with a letter or digit")
        }
        if let bad = word.first(where: { !isAlphanumeric($0) && !extra.contains($0) }) {
            throw SlurmError(.invalidArgument, "the \(what) '\(word)' contains '\(bad)'")
        }
    }

    static func isAlphanumeric(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
}
