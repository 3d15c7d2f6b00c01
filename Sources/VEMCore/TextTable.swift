/// A plain text table: columns padded to their widest cell, separated by two spaces (the operator's commands,
/// `vem simulate`, the demo).
public struct TextTable: Sendable {
    /// The rows, the header first when there is one.
    public var rows: [[String]]

    /// A table of `rows`.
    public init(rows: [[String]]) { self.rows = rows }

    /// The rendered lines (the last cell of a row is not padded).
    public var lines: [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[i] - cell.count))
            }.joined(separator: "  ")
        }
    }
}

/// A duration the way an administrator writes it in the configuration: `5s`, `1m30s`, `250ms`.
public func formatDuration(_ d: Duration) -> String {
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
