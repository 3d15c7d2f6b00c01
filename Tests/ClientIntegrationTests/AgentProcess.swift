import Foundation
import Synchronization
import Testing

/// Samples `/proc/meminfo`'s MemFree on a dedicated thread until stopped, keeping the minimum and maximum.
final class MemFreeSampler: Sendable {
    private let state = Mutex<(min: Int64, max: Int64, samples: Int, stop: Bool)>((.max, .min, 0, false))
    private let done = DispatchSemaphore(value: 0)

    /// MemFree in kB now, read directly.
    static func read() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemFree:") {
            return Int64(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Starts sampling every `interval` seconds.
    init(interval: Double = 0.002) {
        let thread = Thread { [self] in
            while !state.withLock({ $0.stop }) {
                if let v = Self.read() {
                    state.withLock { s in
                        s.min = Swift.min(s.min, v)
                        s.max = Swift.max(s.max, v)
                        s.samples += 1
                    }
                }
                Thread.sleep(forTimeInterval: interval)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops sampling and returns (min, max, samples). Waits for the thread off the cooperative pool.
    func finish() async -> (min: Int64, max: Int64, samples: Int) {
        state.withLock { $0.stop = true }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.done.wait()
                c.resume()
            }
        }
        return state.withLock { ($0.min, $0.max, $0.samples) }
    }
}
