import Foundation
import VEMCore

/// A group's libvirt domain XML with `{{placeholder}}`s, checked when it is loaded.
///
/// Placeholders (values are XML-escaped when filled in):
///
/// | placeholder | value |
/// |---|---|
/// | `{{name}}`, `{{uuid}}` | the domain's name and UUID |
/// | `{{memory_mib}}`, `{{memory_kib}}`, `{{vcpus}}` | the VM's size |
/// | `{{group}}`, `{{vm_id}}`, `{{command_id}}`, `{{manager}}` | VEM's identity of the VM |
/// | `{{identity}}` | `vem.vm=<id> vem.group=<g> vem.manager=<addr>` for the kernel command line |
/// | `{{kernel}}`, `{{initrd}}`, `{{disk}}` | boot files or disk image |
/// | any name in `extraPlaceholders` | the spec's `extra` value of that name |
///
/// A placeholder the template does not know is an error when the template is loaded; one without a value
/// (no kernel given, say) is an error when it is rendered. The rendered text must be well-formed XML with a
/// `<domain>` root; ``render(_:)`` then adds VEM's `<metadata>` (``VEMInstance``) and, when the spec carries the
/// guest's credential, an SMBIOS OEM string with it (``DomainXML/addingOEMString(_:to:origin:)``).
public struct DomainTemplate: Hashable, Sendable {
    /// The placeholders every template may use.
    public static let standardPlaceholders: Set<String> = [
        "name", "uuid", "memory_mib", "memory_kib", "vcpus", "group", "vm_id", "command_id", "manager",
        "identity", "kernel", "initrd", "disk",
    ]

    enum Piece: Hashable, Sendable {
        case text(String)
        case placeholder(String, SourceLocation)
    }

    /// Where the template came from (a file path), for error messages.
    public let origin: String
    /// The template's text.
    public let text: String
    /// The site-specific placeholders this template may use besides the standard ones.
    public let extraPlaceholders: Set<String>
    let pieces: [Piece]

    /// Loads a template and checks its placeholders.
    /// - Parameters:
    ///   - text: The domain XML with placeholders.
    ///   - origin: Where it came from (for messages), such as the file's path.
    ///   - extraPlaceholders: Site-specific placeholder names allowed besides the standard ones.
    /// - Throws: ``LibvirtError`` `.malformedTemplate` (unterminated `{{`, an empty or invalid name) or
    ///   `.unknownPlaceholder`, each naming `origin:line:column`.
    public init(_ text: String, origin: String = "<template>", extraPlaceholders: Set<String> = []) throws {
        self.origin = origin
        self.text = text
        self.extraPlaceholders = extraPlaceholders
        let known = Self.standardPlaceholders.union(extraPlaceholders)
        var pieces: [Piece] = []
        var literal = ""
        var line = 1
        var column = 1
        var i = text.startIndex
        while i < text.endIndex {
            if text[i...].hasPrefix("{{") {
                let at = SourceLocation(file: origin, line: line, column: column)
                let nameStart = text.index(i, offsetBy: 2)
                guard let close = text[nameStart...].range(of: "}}") else {
                    throw LibvirtError(.malformedTemplate, "\(at): '{{' without a closing '}}'")
                }
                let raw = text[nameStart..<close.lowerBound]
                let name = raw.trimmingCharacters(in: .whitespaces)
                guard Self.isValidName(name) else {
                    throw LibvirtError(
                        .malformedTemplate,
                        "\(at): '{{\(raw.prefix(40))}}' is not a placeholder (use lower-case letters, digits, '_')")
                }
                guard known.contains(name) else {
                    var message = "\(at): unknown placeholder '{{\(name)}}'"
                    if let near = closestMatch(to: name, in: known) { message += "; did you mean '{{\(near)}}'?" }
                    throw LibvirtError(.unknownPlaceholder, message)
                }
                if !literal.isEmpty { pieces.append(.text(literal)) }
                literal = ""
                pieces.append(.placeholder(name, at))
                for ch in text[i..<close.upperBound] { advance(ch, &line, &column) }
                i = close.upperBound
                continue
            }
            literal.append(text[i])
            advance(text[i], &line, &column)
            i = text.index(after: i)
        }
        if !literal.isEmpty { pieces.append(.text(literal)) }
        self.pieces = pieces
    }

    /// The placeholder names the template uses, in order of first use.
    public var placeholders: [String] {
        var seen: Set<String> = []
        return pieces.compactMap {
            guard case .placeholder(let name, _) = $0, seen.insert(name).inserted else { return nil }
            return name
        }
    }

    /// Fills the placeholders, checks the XML and adds VEM's metadata.
    /// - Parameter spec: The VM's values.
    /// - Returns: Domain XML ready for `virDomainDefineXML`.
    /// - Throws: ``LibvirtError``: `.badArgument` for a wrong spec, `.unknownPlaceholder` for a placeholder
    ///   without a value, `.malformedTemplate` when the result is not well-formed XML with a `<domain>` root
    ///   (libvirt's own schema checks come later, at define time).
    public func render(_ spec: DomainSpec) throws -> String {
        try spec.validate()
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let t):
                out += t
            case .placeholder(let name, let at):
                guard let value = Self.value(of: name, in: spec) else {
                    throw LibvirtError(
                        .unknownPlaceholder, "\(at): placeholder '{{\(name)}}' has no value for VM '\(spec.name)'")
                }
                out += xmlEscape(value)
            }
        }
        let xml = try DomainXML.addingMetadata(spec.instance, to: out, origin: origin)
        guard let credential = spec.credential else { return xml }
        return try DomainXML.addingOEMString(credential, to: xml, origin: origin)
    }

    static func value(of name: String, in spec: DomainSpec) -> String? {
        switch name {
        case "name": spec.name
        case "uuid": spec.uuid
        case "memory_mib": String(spec.memoryMiB)
        case "memory_kib": String(spec.memoryMiB * 1024)
        case "vcpus": String(spec.vcpus)
        case "group": spec.instance.group
        case "vm_id": spec.instance.vmID
        case "command_id": spec.instance.commandID
        case "manager": spec.manager
        case "identity": spec.identity
        case "kernel": spec.kernel
        case "initrd": spec.initrd
        case "disk": spec.disk
        default: spec.extra[name]
        }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

private func advance(_ ch: Character, _ line: inout Int, _ column: inout Int) {
    if ch == "\n" || ch == "\r\n" {
        line += 1
        column = 1
    } else {
        column += 1
    }
}
