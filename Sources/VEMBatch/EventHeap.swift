/// A binary min-heap of job completions, ordered by time and then by job index (so that equal times pop
/// in a deterministic order).
struct EventHeap: Sendable {
    /// One completion: job `job` ends at `time`.
    struct Event: Sendable, Comparable {
        var time: Int
        var job: Int32

        static func < (a: Event, b: Event) -> Bool { a.time != b.time ? a.time < b.time : a.job < b.job }
    }

    private var items: [Event] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var min: Event? { items.first }

    mutating func push(_ e: Event) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Event? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return top }
        items[0] = last
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < n && items[l] < items[m] { m = l }
            if r < n && items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
