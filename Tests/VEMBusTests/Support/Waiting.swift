import Foundation
import Synchronization

/// A wait that took too long.
struct TimeoutError: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Resumes a continuation once, whoever comes first.
final class OnceResume<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>
    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }
    func resume(_ result: Result<T, any Error>) {
        continuation.withLock { c in
            defer { c = nil }
            return c
        }?.resume(with: result)
    }
}

/// Runs `body`, failing with ``TimeoutError`` after `timeout` (the body keeps running detached if it ignores
/// cancellation; acceptable in tests).
func withTimeout<T: Sendable>(
    _ timeout: Duration = .seconds(20), _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let once = OnceResume(continuation)
        let work = Task {
            do { once.resume(.success(try await body())) } catch { once.resume(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: timeout)
            once.resume(.failure(TimeoutError(what: what)))
            work.cancel()
        }
    }
}

/// Records every element of an event stream and lets tests wait for one that matches.
final class EventRecorder<Element: Sendable>: Sendable {
    private struct Waiter {
        let predicate: @Sendable (Element) -> Bool
        let continuation: CheckedContinuation<Element, any Error>
    }
    private struct State {
        var elements: [Element] = []
        var waiters: [Waiter] = []
    }
    private let state = Mutex(State())

    init(_ stream: AsyncStream<Element>) {
        Task { [weak self] in
            for await element in stream {
                guard let self else { return }
                let ready = self.state.withLock { state -> [CheckedContinuation<Element, any Error>] in
                    state.elements.append(element)
                    var ready: [CheckedContinuation<Element, any Error>] = []
                    state.waiters.removeAll { waiter in
                        guard waiter.predicate(element) else { return false }
                        ready.append(waiter.continuation)
                        return true
                    }
                    return ready
                }
                for continuation in ready { continuation.resume(returning: element) }
            }
        }
    }

    /// Everything recorded so far.
    var elements: [Element] { state.withLock { $0.elements } }

    /// The first recorded element matching `predicate` (already recorded, or the next one to arrive).
    func first(
        _ what: String, timeout: Duration = .seconds(20), where predicate: @escaping @Sendable (Element) -> Bool
    ) async throws -> Element {
        try await withTimeout(timeout, what) {
            try await withCheckedThrowingContinuation { continuation in
                let found = self.state.withLock { state -> Element? in
                    if let found = state.elements.first(where: predicate) { return found }
                    state.waiters.append(Waiter(predicate: predicate, continuation: continuation))
                    return nil
                }
                if let found { continuation.resume(returning: found) }
            }
        }
    }
}

/// A per-client command log kept in memory: what the client's Runner executed, in order.
final class CommandLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A scratch directory for one test, removed by `cleanup()`.
struct ScratchDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vem-bus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}
