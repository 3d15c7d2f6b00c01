import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension OperatorClient {
    /// POSTs `path?query` and yields the answer's lines as they arrive (the body streamed, not buffered): what
    /// `vem ask` reads from `/v1/ask`.
    /// - Returns: The lines; the stream throws ``OperatorClientError`` when the Manager cannot be reached or
    ///   answers an error.
    public func streamLines(_ path: String, query: [String: String], timeout: Double) -> AsyncThrowingStream<
        String, any Error
    > {
        AsyncThrowingStream { continuation in
            let url: URL
            do { url = try self.url(path, query: query) } catch {
                continuation.finish(throwing: error)
                return
            }
            if url.scheme?.lowercased() == "https" {
                self.streamHTTPS(url, timeout: timeout, into: continuation)
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

    /// ``streamLines(_:query:timeout:)`` for an `https://` URL: the POST over mutual TLS (``HTTPSRequest``).
    private func streamHTTPS(
        _ url: URL, timeout: Double, into continuation: AsyncThrowingStream<String, any Error>.Continuation
    ) {
        guard let tls else {
            continuation.finish(throwing: OperatorClientError.certificateNeeded)
            return
        }
        let lines = LineSplitter(continuation: continuation)
        let baseURL = baseURL
        let task = Task {
            do {
                let (status, body) = try await HTTPSRequest.send(
                    url, method: .POST, files: tls, timeout: .milliseconds(Int64(timeout * 1000)),
                    onBody: { status, part in if status == 200 { lines.take(part) } })
                if status == 200 {
                    continuation.finish()
                } else {
                    continuation.finish(
                        throwing: OperatorClientError.status(status, body: String(decoding: body, as: UTF8.self)))
                }
            } catch {
                continuation.finish(throwing: OperatorClientError.unreachable(url: baseURL, reason: "\(error)"))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
    }
}

/// Yields the complete lines of a body that arrives in parts (told of the parts one at a time, in order).
private final class LineSplitter: @unchecked Sendable {
    let continuation: AsyncThrowingStream<String, any Error>.Continuation
    private var buffer = Data()  // touched only by the one channel's event loop

    init(continuation: AsyncThrowingStream<String, any Error>.Continuation) { self.continuation = continuation }

    func take(_ part: Data) {
        buffer.append(part)
        while let newline = buffer.firstIndex(of: 0x0A) {
            let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex...newline)
            if !line.isEmpty { continuation.yield(line) }
        }
    }
}

/// Splits a streamed body into lines for ``OperatorClient/streamLines(_:query:timeout:)``.
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
            continuation.finish(
                throwing: OperatorClientError.unreachable(url: baseURL, reason: error.localizedDescription))
        } else if status != 200 {
            continuation.finish(
                throwing: OperatorClientError.status(status, body: String(decoding: buffer, as: UTF8.self)))
        } else {
            continuation.finish()
        }
    }
}
