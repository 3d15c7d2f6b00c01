/// HTML text with every special character escaped: names and values on the dashboard come from Clients and
/// guests, so none is ever written raw.
enum HTML {
    /// `text` safe inside an element or a quoted attribute value.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A table: a header row and escaped cells (cells are text; `raw` cells are HTML already).
    static func table(_ headers: [String], _ rows: [[Cell]], id: String? = nil) -> String {
        var html = id.map { "<table id=\"\(escape($0))\">" } ?? "<table>"
        html += "<thead><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows {
            html +=
                "<tr>"
                + row.map { "<td\($0.className.map { " class=\"\(escape($0))\"" } ?? "")>\($0.html)</td>" }.joined()
                + "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// A table cell.
    struct Cell: ExpressibleByStringLiteral {
        var html: String
        var className: String?

        init(stringLiteral value: String) { self.init(value) }
        init(_ text: String, className: String? = nil) {
            html = escape(text)
            self.className = className
        }
        init(raw: String, className: String? = nil) {
            html = raw
            self.className = className
        }
    }
}
