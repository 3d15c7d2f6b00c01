import VEMCore

/// One configuration file to load: its name (used in diagnostics) and its bytes.
public struct ConfigSource: Hashable, Sendable {
    /// The name diagnostics use, usually the path as given on the command line.
    public var name: String
    /// The file's contents.
    public var bytes: [UInt8]

    /// Creates a source from bytes.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    /// Creates a source from text (encoded as UTF-8).
    public init(name: String, text: String) {
        self.init(name: name, bytes: Array(text.utf8))
    }
}

/// What ``ConfigLoader/load(_:)`` returns.
public struct LoadResult: Sendable {
    /// The merged configuration; nil if and only if ``diagnostics`` holds an error.
    public var configuration: SiteConfiguration?
    /// What could be decoded even when there are errors: every section that was valid on its own.
    /// Later checkers (the trigger compiler) run on it so that one pass reports every problem.
    public var partialConfiguration: SiteConfiguration
    /// Every error, warning and note, ordered by file (in the order given), line and column;
    /// notes follow the diagnostic they explain.
    public var diagnostics: [Diagnostic]
    /// Each file's position in the order the sources were given (for merging further diagnostics).
    public var fileOrder: [String: Int]

    /// True when loading failed.
    public var hasErrors: Bool { diagnostics.hasErrors }
}

/// Turns configuration files into a checked ``SiteConfiguration``. Pure: it reads no file.
///
/// ```swift
/// let sources = [ConfigSource(name: "site.ini", bytes: bytes)]
/// let result = ConfigLoader.load(sources)
/// var renderer = DiagnosticRenderer()
/// renderer.addConfigSources(sources)
/// print(renderer.render(result.diagnostics))
/// ```
///
/// Sections are classified as follows:
/// - `[manager]`, `[client]`: the Manager's and the Client's settings (at most one each);
/// - `[group:NAME]`, `[command:NAME]`, `[property:NAME]`, `[trigger:NAME]`: by prefix;
/// - any other `[NAME]`: a trigger if it has `expr` or `cmd`, a property if it has `command`
///   (so the paper's examples load as written); otherwise an error.
public enum ConfigLoader {
    /// The section prefixes the loader knows.
    public static let prefixes = ["group", "command", "property", "trigger"]

    /// Loads and merges files, collecting every diagnostic.
    ///
    /// - Parameter sources: The files, in order; definitions may be spread over them.
    /// - Returns: The configuration (nil when there is any error) and the diagnostics.
    public static func load(_ sources: [ConfigSource]) -> LoadResult {
        var merger = Merger()
        var fileOrder: [String: Int] = [:]
        var documents: [IniDocument] = []
        for (index, source) in sources.enumerated() {
            if fileOrder[source.name] == nil { fileOrder[source.name] = index }
            let decoded = DecodedSource(file: source.name, bytes: source.bytes)
            documents.append(IniReader.read(decoded, log: &merger.log))
        }
        // An agent's own files ([client] without [manager]) name groups for their templates only: no share.
        let names = Set(documents.flatMap { $0.sections.map { $0.name.trimmingSpaces } })
        merger.sharesRequired = names.contains("manager") || !names.contains("client")
        for document in documents {
            for section in document.sections { merger.add(section) }
        }
        merger.checkAcrossSections()
        let diagnostics = merger.log.sorted(fileOrder: fileOrder)
        return LoadResult(
            configuration: merger.log.hasErrors ? nil : merger.configuration, partialConfiguration: merger.configuration,
            diagnostics: diagnostics, fileOrder: fileOrder)
    }

    /// Registers the decoded text of each source in a renderer, so that diagnostics quote their lines.
    ///
    /// Use this rather than decoding the bytes yourself: the loader's columns count Unicode scalars
    /// of *its* decoding (BOM dropped, CRLF folded, bad bytes replaced by U+FFFD).
    public static func register(_ sources: [ConfigSource], in renderer: inout DiagnosticRenderer) {
        for source in sources {
            renderer.addFile(named: source.name, contents: DecodedSource(file: source.name, bytes: source.bytes).text)
        }
    }
}

extension DiagnosticRenderer {
    /// Registers configuration sources (see ``ConfigLoader/register(_:in:)``).
    public mutating func addConfigSources(_ sources: [ConfigSource]) {
        ConfigLoader.register(sources, in: &self)
    }
}

/// Accumulates sections from all files into one configuration.
private struct Merger {
    var log = DiagnosticLog()
    var configuration = SiteConfiguration()
    /// First section seen for each (namespace, name), for duplicate detection.
    var seen: [String: IniSection] = [:]
    /// Each (first-defined) group section, for the share check.
    var groupSections: [IniSection] = []
    /// Whether groups need a `share` (not in an agent's own files: a [client] and no [manager]).
    var sharesRequired = true

    mutating func add(_ section: IniSection) {
        guard let (kind, name) = classify(section) else { return }
        let namespace = kind == .property || kind == .trigger ? "plain" : "\(kind)"
        let identity = namespace + "\u{0}" + name
        if let first = seen[identity] {
            log.error(
                section.location, "duplicate section [\(section.name)]", length: section.headerLength,
                notes: [Diagnostic(.note, at: first.location, "[\(first.name)] was first defined here",
                                   length: first.headerLength)])
            // Still check its contents, so that every mistake is reported.
            var scratch = DiagnosticLog()
            decode(section, kind: kind, name: name, log: &scratch, keep: false)
            log.append(scratch)
            return
        }
        seen[identity] = section
        var sectionLog = DiagnosticLog()
        decode(section, kind: kind, name: name, log: &sectionLog, keep: true)
        log.append(sectionLog)
    }

    enum Kind { case manager, client, property, trigger, command, group }

    mutating func decode(_ section: IniSection, kind: Kind, name: String, log: inout DiagnosticLog, keep: Bool) {
        switch kind {
        case .manager:
            let value = ManagerSettings.decode(section, log: &log)
            if keep { configuration.manager = value }
        case .client:
            let value = ClientSettings.decode(section, log: &log)
            if keep { configuration.client = value }
        case .property:
            if let value = PropertyDefinition.decode(section, name: name, log: &log), keep {
                configuration.properties.append(value)
            }
        case .trigger:
            if let value = TriggerDefinition.decode(section, name: name, log: &log), keep {
                configuration.triggers.append(value)
            }
        case .command:
            if let value = CommandDefinition.decode(section, name: name, log: &log), keep {
                configuration.commands.append(value)
            }
        case .group:
            if keep { groupSections.append(section) }
            if let value = GroupDefinition.decode(section, name: name, shareRequired: sharesRequired, log: &log), keep {
                configuration.groups.append(value)
            }
        }
    }

    /// Works out what a section is; nil (with an error) when it cannot tell.
    mutating func classify(_ section: IniSection) -> (Kind, String)? {
        let full = section.name
        if let colon = full.firstIndex(of: ":") {
            let prefix = String(full[..<colon]).trimmingSpaces
            let name = String(full[full.index(after: colon)...]).trimmingSpaces
            let kinds: [String: Kind] = [
                "group": .group, "command": .command, "property": .property, "trigger": .trigger,
            ]
            guard let kind = kinds[prefix] else {
                var message = "unknown section prefix \(quoted(prefix))"
                if let guess = closestMatch(to: prefix, in: ConfigLoader.prefixes) {
                    message += "; did you mean '\(guess)'?"
                }
                log.error(
                    section.nameLocation,
                    message + " (expected [group:…], [command:…], [property:…] or [trigger:…])",
                    length: max(1, prefix.count))
                return nil
            }
            guard !name.isEmpty else {
                log.error(section.location, "empty \(prefix) name in [\(full)]", length: section.headerLength)
                return nil
            }
            return (kind, name)
        }
        if full == "manager" { return (.manager, full) }
        if full == "client" { return (.client, full) }
        let isTrigger = section.entry("expr") != nil || section.entry("cmd") != nil
        let isProperty = section.entry("command") != nil
        switch (isTrigger, isProperty) {
        case (true, false): return (.trigger, full)
        case (false, true): return (.property, full)
        case (true, true):
            log.error(
                section.location,
                "section [\(full)] has both 'command' (a property) and 'expr'/'cmd' (a trigger); "
                    + "split it, or name it [property:\(full)] or [trigger:\(full)]", length: section.headerLength)
            return nil
        case (false, false):
            var notes: [Diagnostic] = []
            for entry in section.entries {
                if let guess = closestMatch(to: entry.key, in: ["command", "expr", "cmd"]) {
                    notes.append(Diagnostic(.note, at: entry.keyLocation, "did you mean '\(guess)'?",
                                            length: entry.key.count))
                }
            }
            var message = "section [\(full)] is neither a property (it has no 'command') nor a trigger (no 'expr' "
                + "or 'cmd')"
            if let guess = closestMatch(to: full, in: ["manager", "client"]) {
                message += "; did you mean [\(guess)]?"
            }
            log.error(section.location, message, length: section.headerLength, notes: notes)
            return nil
        }
    }

    /// Checks that span sections: shares, allowlists against command definitions.
    mutating func checkAcrossSections() {
        checkShares()
        guard let client = configuration.client, let clientSection = seen["client\u{0}client"] else { return }
        if !configuration.commands.isEmpty, let allow = clientSection.entry("allow")?.value {
            let names = configuration.commands.map(\.name)
            // The Client's built-in commands need no [command:…] section.
            let builtin: Set<String> = [
                "exec", "get_property", "reload", "shutdown", "vm.create", "vm.destroy", "vm.migrate", "vm.list",
            ]
            for name in client.allow where !names.contains(name) && !builtin.contains(name) {
                var message = "'allow' lists '\(name)', which no [command:…] section defines"
                if let guess = closestMatch(to: name, in: names) { message += "; did you mean '\(guess)'?" }
                log.warning(allow.location, message, length: allow.length)
            }
        }
        for command in configuration.commands where client.allow.contains(command.name) {
            if let program = command.program, !client.execAllow.contains(program),
                let value = seen["command\u{0}" + command.name]?.entry("program")?.value
            {
                log.warning(
                    value.location,
                    "command '\(command.name)' runs \(program), which 'exec_allow' does not list; "
                        + "the Client will refuse it", length: value.length)
            }
        }
        if let group = client.group, !configuration.groups.isEmpty, configuration.group(named: group) == nil,
            let value = clientSection.entry("group")?.value
        {
            log.warning(value.location, "'group' names '\(group)', which no [group:…] section defines",
                        length: value.length)
        }
    }

    /// Group shares may not add up to more than 100%. Every group whose `share` is a valid number
    /// counts, even when the group has other errors, so that the sum is reported at once.
    mutating func checkShares() {
        var shares: [(name: String, share: Int, value: IniValue)] = []
        for section in groupSections {
            guard let value = section.entry("share")?.value, !value.isBraced,
                let share = ValueParser.integer(value.text), (0...100).contains(share)
            else { continue }
            shares.append((String(section.name.drop { $0 != ":" }.dropFirst()).trimmingSpaces, share, value))
        }
        var total = 0
        for entry in shares {
            total += entry.share
            if total > 100 {
                let sum = shares.reduce(0) { $0 + $1.share }
                let parts = shares.map { "\($0.name) \($0.share)" }.joined(separator: " + ")
                log.error(
                    entry.value.location, "group shares add up to \(sum)%, more than 100% (\(parts))",
                    length: entry.value.length)
                return
            }
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
