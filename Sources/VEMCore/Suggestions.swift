/// Picks the closest candidate to a misspelt word, for "did you mean …?" hints.
///
/// - Parameters:
///   - word: What the user wrote.
///   - candidates: What would have been valid.
/// - Returns: The candidate at the smallest edit distance (a swap of two adjacent letters counts as one
///   edit, the commonest typo), if that distance is small enough to be a plausible typo: at most a third of
///   the word's length, and at least 1 allowed. Words over 64 characters get no suggestion, which keeps
///   pathological input cheap.
public func closestMatch(to word: String, in candidates: some Sequence<String>) -> String? {
    guard word.count <= 64 else { return nil }
    let limit = max(1, word.count / 3)
    var best: (String, Int)?
    for candidate in candidates {
        let d = editDistance(word.lowercased(), candidate.lowercased())
        if d <= limit, d < (best?.1 ?? Int.max) { best = (candidate, d) }
    }
    return best?.0
}

/// The optimal-string-alignment distance between two strings, counted in Characters: insertions,
/// deletions, substitutions and swaps of two adjacent characters each cost one.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var beforePrevious = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                current[j] = min(current[j], beforePrevious[j - 2] + 1)
            }
        }
        (beforePrevious, previous, current) = (previous, current, beforePrevious)
    }
    return previous[b.count]
}
