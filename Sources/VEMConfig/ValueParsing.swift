import VEMCore

// Parsers for the scalar values of a configuration file. They are pure: each returns the
// parsed value or nil, and the caller (``SectionDecoder``) words the diagnostic.

/// A `host:port` address (`127.0.0.1:7400`, `manager.example.org:7400`, `[::1]:7400`).
public struct HostPort: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Host name or IP address (an IPv6 address without its brackets).
    public var host: String
    /// TCP port; 0 in a listen address asks the system for a free port.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port` or `[ipv6]:port`; nil when malformed or the port is outside 0...65535.
    public init?(parsing text: String) {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }),
            let number = ValueParser.integer(String(port)), (0...65535).contains(number)
        else { return nil }
        self.init(host: String(host), port: number)
    }
}

/// Pure parsers for configuration values.
enum ValueParser {
    /// A decimal integer with an optional sign; nil on overflow or any other character.
    static func integer(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 40 else { return nil }
        return Int(text)
    }

    /// `yes/no`, `true/false`, `on/off`, `1/0`, case-insensitive.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes", "true", "on", "1": true
        case "no", "false", "off", "0": false
        default: nil
        }
    }

    /// A duration: a plain number of seconds (`60`), or one or more numbers with units
    /// `ms`, `s`, `m`, `h`, `d` (`500ms`, `30s`, `5m`, `1h30m`). Returns milliseconds.
    static func milliseconds(_ text: String) -> Int? {
        let chars = Array(text.lowercased().utf8)
        guard !chars.isEmpty, chars.count <= 64 else { return nil }
        if let seconds = integer(text) {
            guard seconds >= 0 else { return nil }
            let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : ms
        }
        var total = 0, i = 0
        while i < chars.count {
            var number = 0, digits = 0
            while i < chars.count, chars[i] >= 0x30, chars[i] <= 0x39 {
                let (n1, o1) = number.multipliedReportingOverflow(by: 10)
                let (n2, o2) = n1.addingReportingOverflow(Int(chars[i] - 0x30))
                guard !o1, !o2 else { return nil }
                number = n2
                digits += 1
                i += 1
            }
            guard digits > 0, i < chars.count else { return nil }
            let unit: Int
            switch chars[i] {
            case UInt8(ascii: "m") where i + 1 < chars.count && chars[i + 1] == UInt8(ascii: "s"):
                unit = 1
                i += 1
            case UInt8(ascii: "s"): unit = 1000
            case UInt8(ascii: "m"): unit = 60_000
            case UInt8(ascii: "h"): unit = 3_600_000
            case UInt8(ascii: "d"): unit = 86_400_000
            default: return nil
            }
            i += 1
            let (part, o1) = number.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(part)
            guard !o1, !o2 else { return nil }
            total = sum
        }
        return total
    }

    /// A list: items separated by commas and/or white space (new lines included); empty items dropped.
    static func list(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
    }

    /// Shell-like words: white space separates, `'…'` is literal, `"…"` and bare words honour `\`
    /// escapes. Returns nil when a quote is not closed.
    static func words(_ text: String) -> [String]? {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in text {
            if escaped {
                word.append(c)
                escaped = false
                continue
            }
            if let q = quote {
                if c == q {
                    quote = nil
                } else if c == "\\" && q == "\"" {
                    escaped = true
                } else {
                    word.append(c)
                }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                inWord = true
            case "\\":
                escaped = true
                inWord = true
            case _ where c.isWhitespace:
                if inWord { words.append(word) }
                word = ""
                inWord = false
            default:
                word.append(c)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { return nil }
        if inWord { words.append(word) }
        return words
    }

    /// A name usable in the rule language: a letter or `_`, then letters, digits or `_`.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || isASCIILetter(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || isASCIILetter($0) || ("0"..."9").contains($0) }
    }

    /// A name for a trigger, command or group: letters, digits, `_`, `-`, `.`, starting with a letter or digit.
    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isASCIILetter(first) || ("0"..."9").contains(first) else {
            return false
        }
        return text.unicodeScalars.allSatisfy {
            $0 == "_" || $0 == "-" || $0 == "." || isASCIILetter($0) || ("0"..."9").contains($0)
        }
    }

    private static func isASCIILetter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }
}

