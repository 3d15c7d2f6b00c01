import ArgumentParser
import Foundation
import VEMCore
import VEMManager

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `vem ask PROPERTY… [--clients PATTERN] [--timeout S]`: what `salt '*' grains.item` is to a Salt admin.
struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask the Clients for properties now; print each answer as it arrives.",
        discussion: """
            The Manager sends one property round (get_property) to the connected Clients whose names match \
            --clients (a shell glob; default all) and streams back each Client's answer as it arrives: one line \
            per Client, `NAME: prop=value …` (an error reading a property is shown as prop=!error). Then one line \
            per Client that did not answer within --timeout, and a summary. Exit status 1 when a Client did not \
            answer. The answers update the Manager's view too (vem props).
            """)

    @Argument(help: "The properties to ask for (none: every property the Clients define).")
    var properties: [String] = []

    @Option(help: "Only the Clients whose names match this shell glob (h*, vm-?, …).")
    var clients: String?

    @Option(help: "Seconds to wait for the last answer.")
    var timeout: Double = 5

    @OptionGroup var api: ManagerAPIOptions

    func validate() throws {
        if !(timeout > 0 && timeout <= 600) { throw ValidationError("--timeout must be between 0 and 600 seconds") }
    }

    func run() async throws {
        var query = ["names": properties.joined(separator: ","), "timeout": String(timeout)]
        if let clients { query["clients"] = clients }
        var missing: [String] = []
        for try await raw in api.streamLines("/v1/ask", query: query, timeout: timeout + 30) {
            if api.json {
                print(raw)
                if let line = try? JSONDecoder().decode(AskLine.self, from: Data(raw.utf8)) { missing += line.missing ?? [] }
                continue
            }
            guard let line = try? JSONDecoder().decode(AskLine.self, from: Data(raw.utf8)) else {
                printError("error: unexpected answer from the Manager: \(raw)")
                throw ExitCode.failure
            }
            if let client = line.client {
                let readings = (line.readings ?? []).map { r in "\(r.name)=\(r.error.map { "!\($0)" } ?? r.value?.brief ?? "None")" }
                print("\(client): \(readings.isEmpty ? "(no properties)" : readings.joined(separator: " "))")
            } else {
                missing = line.missing ?? []
                for name in missing { print("\(name): no answer within \(timeout.formatted()) s") }
                let asked = line.asked ?? 0
                print(
                    "\(asked - missing.count) of \(asked) Client\(asked == 1 ? "" : "s") answered in "
                        + String(format: "%.3f s", line.elapsed))
            }
        }
        if !missing.isEmpty { throw ExitCode.failure }
    }
}

extension ManagerAPIOptions {
    /// POSTs `path?query` and yields the answer's lines as they arrive (the body streamed, not buffered).
    /// Exits 1 when the Manager cannot be reached or answers an error.
    func streamLines(_ path: String, query: [String: String], timeout: Double) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            var components = URLComponents(string: baseURL + path)
            components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            guard let url = components?.url, url.host != nil else {
                printError("error: invalid --manager-url \(baseURL): expected http://HOST:PORT")
                continuation.finish(throwing: ExitCode.failure)
                return
            }
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.timeoutInterval = timeout
            let delegate = LineDelegate(continuation: continuation, baseURL: baseURL)
            let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
            let task = session.dataTask(with: request)
            continuation.onTermination = { _ in
                task.cancel()
                session.finishTasksAndInvalidate()
            }
            task.resume()
        }
    }
}

/// Splits a streamed body into lines for ``ManagerAPIOptions/streamLines(_:query:timeout:)``.
private final class LineDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let continuation: AsyncThrowingStream<String, any Error>.Continuation
    let baseURL: String
    private var buffer = Data()  // touched only on the session's serial delegate queue
    private var status = 200

    init(continuation: AsyncThrowingStream<String, any Error>.Continuation, baseURL: String) {
        self.continuation = continuation
        self.baseURL = baseURL
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        status = (response as? HTTPURLResponse)?.statusCode ?? 0
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        buffer.append(data)
        guard status == 200 else { return }
        while let newline = buffer.firstIndex(of: 0x0A) {
            let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex...newline)
            if !line.isEmpty { continuation.yield(line) }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error {
            printError("error: cannot reach the Manager at \(baseURL): \(error.localizedDescription)")
            continuation.finish(throwing: ExitCode.failure)
        } else if status != 200 {
            printError("error: the Manager answered \(status): \(String(decoding: buffer, as: UTF8.self))")
            continuation.finish(throwing: ExitCode.failure)
        } else {
            continuation.finish()
        }
    }
}
