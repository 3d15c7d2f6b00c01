/// `directory/name`, as `NSString.appendingPathComponent` joins them (one `/` between; `name` alone when
/// `directory` is empty), without Foundation (issue 21: the guest's agent links FoundationEssentials only).
/// - Parameters:
///   - directory: A directory path, with or without a trailing `/`.
///   - name: A file name or a relative path.
/// - Returns: The joined path.
public func joinPath(_ directory: String, _ name: String) -> String {
    if directory.isEmpty { return name }
    if name.isEmpty { return directory }
    let head = directory.hasSuffix("/") && directory != "/" ? String(directory.dropLast()) : directory
    let tail = name.hasPrefix("/") ? String(name.dropFirst()) : name
    return head == "/" ? "/" + tail : head + "/" + tail
}

/// The last component of a path (`/a/b.swf` → `b.swf`, `/a/b/` → `b`, `/` → `/`), as
/// `NSString.lastPathComponent` gives it.
/// - Parameter path: A path.
/// - Returns: Its last component.
public func lastPathComponent(_ path: String) -> String {
    guard let last = path.split(separator: "/").last else { return path.isEmpty ? "" : "/" }
    return String(last)
}

extension StringProtocol {
    /// The text without its leading and trailing white space: Foundation's `trimmingCharacters(in:
    /// .whitespacesAndNewlines)` (or `.whitespaces` when `newlines` is false), without Foundation (issue 21).
    /// - Parameter newlines: Whether line breaks count as white space too.
    /// - Returns: The trimmed text.
    public func trimmingWhitespace(newlines: Bool = true) -> String {
        let blank: (Character) -> Bool = { $0.isWhitespace && (newlines || !$0.isNewline) }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
