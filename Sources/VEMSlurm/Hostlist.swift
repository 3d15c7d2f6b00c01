/// Slurm's compact host lists (`fa1,fb[1-3,07-08]`) and array task strings (`0-9%2`, `1,3,5-11:2`).
///
/// Grammar of a host list: items separated by commas outside brackets; an item is text with any number of
/// bracket groups, each a comma list of numbers or `lo-hi` ranges (zero padding kept: `[07-10]` gives
/// `07 08 09 10`). Several groups multiply (`a[1-2]b[1-2]` gives four names).
public enum Hostlist {
    /// The largest number of names an expansion may produce.
    public static let maximumNames = 100_000

    /// Expands a host list.
    /// - Parameter list: Slurm's compact form; empty gives no names.
    /// - Returns: The names in order.
    /// - Throws: ``SlurmError`` `.malformedOutput` for unbalanced brackets, bad ranges or too many names.
    public static func expand(_ list: String) throws -> [String] {
        var names: [String] = []
        for item in try splitTopLevel(list) where !item.isEmpty {
            names += try expandItem(Substring(item))
            guard names.count <= maximumNames else { throw bad(list, "more than \(maximumNames) names") }
        }
        return names
    }

    /// How many tasks an array task string stands for (`0-9%2` → 10, `1,3,5-11:2` → 6), or nil when it
    /// does not parse.
    public static func arrayTaskCount(_ tasks: String) -> Int? {
        let body = tasks.split(separator: "%", maxSplits: 1).first.map(String.init) ?? ""
        var total = 0
        for part in body.split(separator: ",") {
            let stepParts = part.split(separator: ":", maxSplits: 1)
            let step = stepParts.count == 2 ? Int(stepParts[1]) : 1
            let bounds = stepParts[0].split(separator: "-", maxSplits: 1)
            guard let step, step > 0, let lo = Int(bounds[0]), lo >= 0 else { return nil }
            let hi = bounds.count == 2 ? Int(bounds[1]) : lo
            guard let hi, hi >= lo else { return nil }
            total += (hi - lo) / step + 1
        }
        return total > 0 ? total : nil
    }

    static func splitTopLevel(_ list: String) throws -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        for ch in list {
            switch ch {
            case "[":
                depth += 1
                guard depth == 1 else { throw bad(list, "nested brackets") }
                current.append(ch)
            case "]":
                depth -= 1
                guard depth == 0 else { throw bad(list, "']' without '['") }
                current.append(ch)
            case "," where depth == 0:
                items.append(current)
                current = ""
            default:
                current.append(ch)
            }
        }
        guard depth == 0 else { throw bad(list, "'[' without ']'") }
        items.append(current)
        return items
    }

    static func expandItem(_ item: Substring) throws -> [String] {
        guard let open = item.firstIndex(of: "[") else { return [String(item)] }
        guard let close = item[open...].firstIndex(of: "]") else { throw bad(String(item), "'[' without ']'") }
        let prefix = item[..<open]
        let suffixes = try expandItem(item[item.index(after: close)...])
        var names: [String] = []
        for range in item[item.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = range.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let lo = Int(bounds[0]), lo >= 0 else { throw bad(String(item), "bad range '\(range)'") }
            let hi = bounds.count == 2 ? Int(bounds[1]) : lo
            guard let hi, hi >= lo, hi - lo < maximumNames else { throw bad(String(item), "bad range '\(range)'") }
            let width = bounds[0].count
            for n in lo...hi {
                var digits = String(n)
                if digits.count < width { digits = String(repeating: "0", count: width - digits.count) + digits }
                for s in suffixes { names.append(prefix + digits + s) }
                guard names.count <= maximumNames else { throw bad(String(item), "more than \(maximumNames) names") }
            }
        }
        return names
    }

    static func bad(_ list: String, _ why: String) -> SlurmError {
        SlurmError(.malformedOutput, "unreadable host list '\(list.prefix(80))': \(why)")
    }
}
