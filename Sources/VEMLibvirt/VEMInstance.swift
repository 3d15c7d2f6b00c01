import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// VEM's mark on a domain it created: the group, the VM id and the command that created it.
///
/// It is stored in the domain's `<metadata>` element, under VEM's own XML namespace:
/// ```xml
/// <metadata>
///   <vem:instance xmlns:vem="https://vem.example/xmlns/instance/1" group="atlas" vm="atlas-3" command="42"/>
/// </metadata>
/// ```
/// and read back with `virDomainGetMetadata`, so that a Client can tell after any restart exactly which
/// domains are VEM's.
public struct VEMInstance: Hashable, Sendable, Codable {
    /// The XML namespace of VEM's metadata element.
    public static let namespace = "https://vem.example/xmlns/instance/1"
    /// The prefix VEM writes its element with.
    public static let prefix = "vem"
    /// The element's local name.
    public static let elementName = "instance"

    /// The group the VM belongs to.
    public var group: String
    /// VEM's id of the VM.
    public var vmID: String
    /// The id of the command that created the VM, if known.
    public var commandID: String?

    /// Creates a value.
    public init(group: String, vmID: String, commandID: String? = nil) {
        self.group = group
        self.vmID = vmID
        self.commandID = commandID
    }

    /// The element as it appears inside a domain's `<metadata>`, with VEM's prefix and namespace.
    public var element: String {
        var s = "<\(Self.prefix):\(Self.elementName) xmlns:\(Self.prefix)=\"\(Self.namespace)\""
        s += " group=\"\(xmlEscape(group))\" vm=\"\(xmlEscape(vmID))\""
        if let commandID { s += " command=\"\(xmlEscape(commandID))\"" }
        return s + "/>"
    }

    /// Reads the element back from the text `virDomainGetMetadata` returns.
    ///
    /// libvirt looks the element up by VEM's namespace and returns it *without* a namespace declaration
    /// (`<instance group="…" vm="…"/>`); an element that declares a namespace must declare VEM's.
    /// - Parameter xml: The element's XML.
    /// - Throws: ``LibvirtError`` `.badMetadata` when it is not well-formed, not VEM's element, or lacks
    ///   `group` or `vm`.
    public static func parse(_ xml: String) throws -> VEMInstance {
        let reader = FirstElementReader()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldProcessNamespaces = true
        parser.delegate = reader
        guard parser.parse(), let element = reader.name else {
            throw LibvirtError(.badMetadata, "VEM metadata is not well-formed XML: \(xml.prefix(120))")
        }
        let ns = reader.namespace ?? ""
        guard element == elementName, ns.isEmpty || ns == namespace else {
            throw LibvirtError(
                .badMetadata,
                "expected <\(elementName)> in namespace \(namespace), found <\(element)> in namespace '\(ns)'")
        }
        guard let group = reader.attributes["group"], let vm = reader.attributes["vm"] else {
            throw LibvirtError(.badMetadata, "VEM metadata lacks the group or vm attribute: \(xml.prefix(120))")
        }
        return VEMInstance(group: group, vmID: vm, commandID: reader.attributes["command"])
    }
}

/// Captures the first element of a document.
private final class FirstElementReader: NSObject, XMLParserDelegate {
    var name: String?
    var namespace: String?
    var attributes: [String: String] = [:]

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        guard name == nil else { return }
        name = elementName
        namespace = namespaceURI
        attributes = attributeDict
    }
}

/// Escapes text for use in XML character data and attribute values (`& < > " '`).
public func xmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for ch in text {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(ch)
        }
    }
    return out
}
