import Foundation
import VEMCore

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// The executable's name for ``VEMCore/TextTable``.
typealias Table = TextTable

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
