/// An incremental frame decoder: a pure state machine that takes byte chunks as they arrive and yields
/// messages, or one typed error.
///
/// ```swift
/// var decoder = FrameDecoder()
/// decoder.append(chunk)                        // whatever the socket gave
/// while let message = try decoder.next() { … } // every complete frame
/// try decoder.finish()                         // at close: throws if a frame was cut off
/// ```
///
/// Guarantees, for any input whatsoever:
/// - it never traps, and reports each problem as a ``ProtocolError`` (oversized, truncated at close, bad version,
///   unknown `msg_type`, malformed field, invalid UTF-8);
/// - a length prefix above ``Configuration/maximumFrameSize`` is rejected as soon as its 4 bytes are seen, before
///   the body is waited for or buffered; the bytes already buffered are released;
/// - it buffers at most one incomplete frame (≤ 4 + `maximumFrameSize` bytes) besides complete frames the
///   caller appended but has not drained yet — drain with ``next()`` after every ``append(_:)-(UnsafeRawBufferPointer)``;
/// - after an error it stays failed: ``next()`` and ``finish()`` rethrow the same error and ``append(_:)-(UnsafeRawBufferPointer)`` discards
///   input (the connection must be closed);
/// - the result does not depend on how the stream was split into chunks.
public struct FrameDecoder: Sendable {
    /// Limits for a decoder.
    public struct Configuration: Hashable, Sendable {
        /// The largest acceptable frame body in bytes. Default: ``WireFormat/defaultMaximumFrameSize`` (1 MiB).
        public var maximumFrameSize: Int
        /// Creates a configuration.
        /// - Parameter maximumFrameSize: The largest acceptable frame body in bytes (default 1 MiB).
        public init(maximumFrameSize: Int = WireFormat.defaultMaximumFrameSize) {
            self.maximumFrameSize = max(WireFormat.minimumBodySize, maximumFrameSize)
        }
    }

    /// The decoder's limits.
    public let configuration: Configuration
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failure: ProtocolError?

    /// Creates a decoder.
    /// - Parameter configuration: Its limits.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Bytes received but not yet returned as messages.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// The error the decoder stopped at, if any.
    public var error: ProtocolError? { failure }

    /// Appends received bytes.
    /// - Parameter bytes: The next chunk of the stream (any size, including empty).
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty else { return }
        compactIfUseful()
        buffer.append(contentsOf: bytes)
        checkPendingHeader()
    }

    /// Appends received bytes.
    /// - Parameter bytes: The next chunk of the stream.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends received bytes.
    /// - Parameter bytes: The next chunk of the stream.
    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete message, or `nil` when more bytes are needed.
    /// - Throws: ``ProtocolError`` for the first bad frame (and again on every later call).
    public mutating func next() throws(ProtocolError) -> Message? {
        if let failure { throw failure }
        let available = buffer.count - readIndex
        let length: Int?
        do {
            length = try buffer.withUnsafeBytes { raw in
                Result { () throws(ProtocolError) -> Int? in
                    try WireFormat.peekBodyLength(
                        UnsafeRawBufferPointer(rebasing: raw[readIndex...]),
                        maximumFrameSize: configuration.maximumFrameSize)
                }
            }.get()
        } catch {
            throw fail(error)
        }
        guard let length, available >= WireFormat.lengthPrefixSize + length else { return nil }
        let start = readIndex + WireFormat.lengthPrefixSize
        let end = start + length
        let result = buffer.withUnsafeBytes { raw in
            Result { () throws(ProtocolError) -> Message in
                try Message(decodingBody: UnsafeRawBufferPointer(rebasing: raw[start..<end]))
            }
        }
        switch result {
        case .success(let message):
            readIndex = end
            if readIndex == buffer.count { releaseConsumed() }
            return message
        case .failure(let error):
            throw fail(error)
        }
    }

    /// Declares the end of the stream (the peer closed).
    /// - Throws: The decoder's earlier error, or ``ProtocolError/Code/truncatedFrame`` if bytes of an incomplete
    ///   frame are left over.
    public mutating func finish() throws(ProtocolError) {
        if let failure { throw failure }
        let left = bufferedByteCount
        guard left == 0 else {
            throw fail(ProtocolError(.truncatedFrame, "stream closed inside a frame (\(left) bytes left over)"))
        }
    }

    private mutating func fail(_ error: ProtocolError) -> ProtocolError {
        failure = error
        buffer = []
        readIndex = 0
        return error
    }

    /// Rejects an oversized length prefix as soon as it is complete, so its body is never waited for.
    private mutating func checkPendingHeader() {
        guard buffer.count - readIndex >= WireFormat.lengthPrefixSize else { return }
        let i = readIndex
        let length = Int(buffer[i]) << 24 | Int(buffer[i + 1]) << 16 | Int(buffer[i + 2]) << 8 | Int(buffer[i + 3])
        if length > configuration.maximumFrameSize {
            _ = fail(
                ProtocolError(
                    .oversizedFrame,
                    "frame of \(length) bytes exceeds the maximum of \(configuration.maximumFrameSize)", offset: 0))
        }
    }

    private mutating func releaseConsumed() {
        readIndex = 0
        if buffer.capacity > 64 * 1024 {
            buffer = []
        } else {
            buffer.removeAll(keepingCapacity: true)
        }
    }

    private mutating func compactIfUseful() {
        if readIndex == buffer.count {
            releaseConsumed()
        } else if readIndex >= 4096 && readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
