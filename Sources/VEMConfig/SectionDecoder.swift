import VEMCore

/// Reads the typed values of one section, logging a diagnostic for every bad value.
///
/// Each accessor returns nil when the key is absent *or* its value is invalid (after logging an
/// error), so callers write `decoder.integer("ticks", in: 0...86_400) ?? 60`.
/// ``finish()`` warns about every key no accessor asked for.
struct SectionDecoder {
    let section: IniSection
    /// How the section is named in messages, e.g. `property [ram_free]`.
    let title: String
    /// Every key this kind of section knows (for "did you mean" hints).
    let knownKeys: [String]
    var log = DiagnosticLog()

    init(_ section: IniSection, title: String, keys: [String]) {
        self.section = section
        self.title = title
        self.knownKeys = keys
    }

    /// The raw entry of a key.
    func entry(_ key: String) -> IniEntry? { section.entry(key) }

    /// The header's location, for errors about the section as a whole.
    var headerLocation: SourceLocation { section.location }

    mutating func error(_ value: IniValue, _ message: String) {
        log.error(value.location, message, length: value.length)
    }

    /// Logs that a required key is missing.
    mutating func missing(_ key: String) {
        log.error(section.location, "\(title) is missing required key '\(key)'", length: section.headerLength)
    }

    /// A plain (unbraced) value's text.
    mutating func plain(_ key: String, required: Bool = false) -> IniValue? {
        guard let entry = entry(key) else {
            if required { missing(key) }
            return nil
        }
        if entry.value.isBraced {
            error(entry.value, "'\(key)' takes a plain value, not a braced expression")
            return nil
        }
        return entry.value
    }

    /// A non-empty string.
    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let value = plain(key, required: required) else { return nil }
        guard !value.text.isEmpty else {
            error(value, "'\(key)' needs a value")
            return nil
        }
        return value.text
    }

    /// A string that may be empty.
    mutating func text(_ key: String) -> String? { plain(key)?.text }

    /// An expression written in braces, kept as source text.
    mutating func expression(_ key: String, required: Bool) -> SourceText? {
        guard let entry = entry(key) else {
            if required { missing(key) }
            return nil
        }
        guard entry.value.isBraced else {
            error(entry.value, "'\(key)' must be written in braces: \(key) = { … }")
            return nil
        }
        if entry.value.text.allSatisfy(\.isWhitespace) {
            error(entry.value, "'\(key)' is empty")
            return nil
        }
        return entry.value.sourceText
    }

    /// An integer within a range.
    mutating func integer(_ key: String, in range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let value = plain(key, required: required) else { return nil }
        guard let number = ValueParser.integer(value.text) else {
            error(value, "invalid value \(quoted(value.text)) for '\(key)': expected an integer" + hint(value.text))
            return nil
        }
        guard range.contains(number) else {
            error(value, "'\(key)' must be \(describe(range)), not \(number)")
            return nil
        }
        return number
    }

    /// A whole number of seconds: `60`, `30s`, `5m`, `1h`.
    mutating func seconds(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = plain(key) else { return nil }
        guard let ms = ValueParser.milliseconds(value.text) else {
            error(
                value,
                "invalid value \(quoted(value.text)) for '\(key)': expected a number of seconds (60) "
                    + "or a duration (30s, 5m, 1h)" + hint(value.text))
            return nil
        }
        guard ms % 1000 == 0 else {
            error(value, "'\(key)' must be a whole number of seconds")
            return nil
        }
        guard range.contains(ms / 1000) else {
            error(value, "'\(key)' must be \(describe(range)) seconds, not \(ms / 1000)")
            return nil
        }
        return ms / 1000
    }

    /// A duration (`500ms`, `5`, `30s`, `2m`, `1h`) of at least `minimum` milliseconds and at most a week.
    mutating func duration(_ key: String, minimumMilliseconds minimum: Int = 1) -> Duration? {
        guard let value = plain(key) else { return nil }
        guard let ms = ValueParser.milliseconds(value.text) else {
            error(
                value,
                "invalid value \(quoted(value.text)) for '\(key)': expected a number of seconds (5) "
                    + "or a duration (500ms, 30s, 5m, 1h)" + hint(value.text))
            return nil
        }
        let week = 7 * 86_400_000
        guard ms >= minimum, ms <= week else {
            error(value, "'\(key)' must be between \(minimum)ms and 7d")
            return nil
        }
        return .milliseconds(ms)
    }

    /// A boolean: yes/no, true/false, on/off, 1/0.
    mutating func boolean(_ key: String) -> Bool? {
        guard let value = plain(key) else { return nil }
        guard let flag = ValueParser.boolean(value.text) else {
            error(
                value,
                "invalid value \(quoted(value.text)) for '\(key)': expected yes/no, true/false, on/off or 1/0"
                    + hint(value.text))
            return nil
        }
        return flag
    }

    /// One of an enumeration's raw values (compared case-insensitively).
    mutating func choice<E: RawRepresentable & CaseIterable>(_ key: String, as type: E.Type = E.self) -> E?
    where E.RawValue == String {
        choice(key, as: type, name: \.rawValue)
    }

    /// A value out of a fixed set, each case spelled `name(case)` (case-insensitive).
    mutating func choice<E: CaseIterable>(_ key: String, as type: E.Type, name: (E) -> String) -> E? {
        guard let value = plain(key) else { return nil }
        if let match = E.allCases.first(where: { name($0).lowercased() == value.text.lowercased() }) {
            return match
        }
        let names = E.allCases.map(name)
        var message = "unknown value \(quoted(value.text)) for '\(key)'"
        if let guess = closestMatch(to: value.text, in: names) {
            message += "; did you mean '\(guess)'?"
        }
        error(value, message + " (expected \(names.joined(separator: ", ")))" + hint(value.text))
        return nil
    }

    /// A `host:port` address.
    mutating func address(_ key: String, allowPortZero: Bool) -> HostPort? {
        guard let value = plain(key) else { return nil }
        guard let address = HostPort(parsing: value.text), allowPortZero || address.port != 0 else {
            error(
                value,
                "invalid address \(quoted(value.text)) for '\(key)': expected host:port (127.0.0.1:7400, [::1]:7400)")
            return nil
        }
        return address
    }

    /// A list of items separated by commas or white space.
    mutating func list(_ key: String) -> [String]? {
        plain(key).map { ValueParser.list($0.text) }
    }

    /// Refuses (an error) every key this kind of section does not know, suggesting the closest known one.
    mutating func finish() {
        for entry in section.entries where !knownKeys.contains(entry.key) {
            var message = "unknown key '\(entry.key)'"
            if let guess = closestMatch(to: entry.key, in: knownKeys) {
                message += "; did you mean '\(guess)'?"
            } else {
                message += " in \(title) (known keys: \(knownKeys.joined(separator: ", ")))"
            }
            log.error(entry.keyLocation, message, length: entry.key.count)
        }
    }

    private func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "at least \(range.lowerBound)" }
        return "between \(range.lowerBound) and \(range.upperBound)"
    }

    /// A hint for the commonest cause of a bad scalar: an inline comment.
    private func hint(_ text: String) -> String {
        text.contains(" #") || text.contains(" ;") || text.contains("\t#")
            ? " (comments must be on a line of their own)" : ""
    }
}
