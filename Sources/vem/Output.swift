import Foundation

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A plain text table: columns padded to their widest cell, separated by two spaces.
struct Table {
    var rows: [[String]]

    var lines: [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}

/// A duration the way an administrator writes it in the configuration: `5s`, `1m30s`, `250ms`.
func formatDuration(_ d: Duration) -> String {
    let ms = Int((Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15).rounded())
    if ms % 1000 != 0 { return "\(ms)ms" }
    var s = ms / 1000
    if s == 0 { return "0s" }
    var out = ""
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where s >= size {
        out += "\(s / size)\(unit)"
        s %= size
    }
    return out
}
