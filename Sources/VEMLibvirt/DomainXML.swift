import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Checks of rendered domain XML and the insertion of VEM's metadata element.
enum DomainXML {
    /// Adds `instance` to the domain's `<metadata>` (creating it right after the `<domain …>` start tag when
    /// there is none), after checking that `xml` is well-formed with a `<domain>` root.
    static func addingMetadata(_ instance: VEMInstance, to xml: String, origin: String) throws -> String {
        let shape = try check(xml, origin: origin)
        if shape.hasVEMMetadata {
            throw LibvirtError(
                .malformedTemplate, "\(origin): the template carries VEM's metadata itself; VEM adds it")
        }
        guard let rootEnd = endOfRootStartTag(xml) else {
            throw LibvirtError(.malformedTemplate, "\(origin): cannot find the end of the <domain> start tag")
        }
        var result = xml
        if shape.hasMetadata, let range = metadataStartTag(in: xml, after: rootEnd) {
            let tag = xml[range]
            if tag.hasSuffix("/>") {
                result.replaceSubrange(range, with: "<metadata>\(instance.element)</metadata>")
            } else {
                result.insert(contentsOf: instance.element, at: range.upperBound)
            }
        } else {
            result.insert(contentsOf: "\n  <metadata>\(instance.element)</metadata>", at: rootEnd)
        }
        let after = try check(result, origin: origin)
        guard after.hasVEMMetadata else {
            throw LibvirtError(.malformedTemplate, "\(origin): could not place VEM's metadata in <metadata>")
        }
        return result
    }

    /// Adds `text` as an SMBIOS OEM string (`<sysinfo type='smbios'><oemStrings><entry>`, XML-escaped) and makes
    /// the guest's SMBIOS come from `<sysinfo>` (`<os><smbios mode='sysinfo'/>`): into the template's own
    /// `<oemStrings>` or `<sysinfo>` when it has one, else a new `<sysinfo>` right after the `<domain>` start tag.
    /// The guest reads it from `/sys/firmware/dmi/entries/11-*/raw` or `/sys/firmware/dmi/tables/DMI` (root only).
    /// - Throws: ``LibvirtError`` `.malformedTemplate` when the domain has no `<os>` or the result is not
    ///   well-formed (never showing `text`).
    static func addingOEMString(_ text: String, to xml: String, origin: String) throws -> String {
        guard let rootEnd = endOfRootStartTag(xml) else {
            throw LibvirtError(.malformedTemplate, "\(origin): cannot find the end of the <domain> start tag")
        }
        let entry = "<entry>\(xmlEscape(text))</entry>"
        var result = xml
        if let close = result[rootEnd...].range(of: "</oemStrings>") {
            result.insert(contentsOf: entry, at: close.lowerBound)
        } else if let close = result[rootEnd...].range(of: "</sysinfo>") {
            result.insert(contentsOf: "<oemStrings>\(entry)</oemStrings>", at: close.lowerBound)
        } else {
            result.insert(contentsOf: "\n  <sysinfo type='smbios'><oemStrings>\(entry)</oemStrings></sysinfo>", at: rootEnd)
        }
        if result[rootEnd...].range(of: "<smbios") == nil {
            guard let close = result[rootEnd...].range(of: "</os>") else {
                throw LibvirtError(.malformedTemplate, "\(origin): the domain has no <os> element for <smbios mode='sysinfo'/>")
            }
            result.insert(contentsOf: "<smbios mode='sysinfo'/>", at: close.lowerBound)
        }
        _ = try check(result, origin: origin)
        return result
    }

    struct Shape {
        var hasMetadata = false
        var hasVEMMetadata = false
    }

    /// Parses the XML: well-formed, root `<domain>`; reports whether `<metadata>` and VEM's element exist.
    static func check(_ xml: String, origin: String) throws -> Shape {
        let reader = ShapeReader()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldProcessNamespaces = true
        parser.delegate = reader
        // FoundationXML accepts a document that ends inside an element; the depth check catches that.
        guard parser.parse(), reader.depth == 0 else {
            let detail =
                parser.parserError.map { "\($0.localizedDescription)" }
                ?? "the document ends inside <\(reader.open.last ?? "?")>"
            throw LibvirtError(
                .malformedTemplate,
                "\(origin): rendered domain XML is not well-formed (line \(parser.lineNumber), "
                    + "column \(parser.columnNumber)): \(detail)")
        }
        guard reader.root == "domain" else {
            throw LibvirtError(
                .malformedTemplate, "\(origin): the root element is <\(reader.root ?? "none")>, expected <domain>")
        }
        return reader.shape
    }

    /// The index just after the `>` that ends the root `<domain …>` start tag.
    static func endOfRootStartTag(_ xml: String) -> String.Index? {
        var i = xml.startIndex
        while i < xml.endIndex {
            let rest = xml[i...]
            if rest.hasPrefix("<?") {
                guard let end = rest.range(of: "?>") else { return nil }
                i = end.upperBound
            } else if rest.hasPrefix("<!--") {
                guard let end = rest.range(of: "-->") else { return nil }
                i = end.upperBound
            } else if rest.hasPrefix("<!") {
                guard let end = rest.firstIndex(of: ">") else { return nil }
                i = xml.index(after: end)
            } else if rest.hasPrefix("<") {
                return endOfTag(xml, from: i)
            } else {
                i = xml.index(after: i)
            }
        }
        return nil
    }

    /// The range of the first `<metadata …>` (or `<metadata/>`) start tag after `start`, outside comments.
    static func metadataStartTag(in xml: String, after start: String.Index) -> Range<String.Index>? {
        var i = start
        while i < xml.endIndex {
            let rest = xml[i...]
            if rest.hasPrefix("<!--") {
                guard let end = rest.range(of: "-->") else { return nil }
                i = end.upperBound
                continue
            }
            if rest.hasPrefix("<metadata"), let next = rest.dropFirst(9).first,
                next == ">" || next == "/" || next.isWhitespace, let end = endOfTag(xml, from: i)
            {
                return i..<end
            }
            i = xml.index(after: i)
        }
        return nil
    }

    /// The index after the `>` closing the tag that starts at `from`, skipping quoted attribute values.
    private static func endOfTag(_ xml: String, from: String.Index) -> String.Index? {
        var quote: Character?
        var i = from
        while i < xml.endIndex {
            let ch = xml[i]
            if let q = quote {
                if ch == q { quote = nil }
            } else if ch == "\"" || ch == "'" {
                quote = ch
            } else if ch == ">" {
                return xml.index(after: i)
            }
            i = xml.index(after: i)
        }
        return nil
    }
}

private final class ShapeReader: NSObject, XMLParserDelegate {
    var root: String?
    var depth = 0
    var open: [String] = []
    var shape = DomainXML.Shape()
    private var inMetadata = false

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        depth += 1
        open.append(elementName)
        if depth == 1 { root = elementName }
        if depth == 2, elementName == "metadata" {
            shape.hasMetadata = true
            inMetadata = true
        }
        if depth == 3, inMetadata, namespaceURI == VEMInstance.namespace,
            elementName == VEMInstance.elementName
        {
            shape.hasVEMMetadata = true
        }
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        if depth == 2 { inMetadata = false }
        depth -= 1
        _ = open.popLast()
    }
}
