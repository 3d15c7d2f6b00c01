import CZlib

/// Streaming gzip (and zlib) decompression through zlib's `inflate`, with `windowBits` 15 + 32 so that the
/// header kind is detected automatically. Concatenated gzip members (as `cat a.gz b.gz` makes) are
/// decompressed one after the other, like `gzip -d` does.
///
/// Feed compressed bytes in chunks of any size with ``inflate(_:into:)``; each decompressed chunk is handed
/// to the closure as soon as it is produced, so a large trace never needs to be held in memory whole.
/// Call ``finish()`` after the last chunk to learn whether the stream was complete.
///
/// The inflater owns a C `z_stream` (zlib checks that it never moves), so it is a class; it is not
/// `Sendable`: use one from one task at a time.
public final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output: [UInt8]
    private var ended = false
    private var sawInput = false
    /// Compressed bytes consumed so far.
    public private(set) var totalIn = 0
    /// Decompressed bytes produced so far.
    public private(set) var totalOut = 0

    /// Creates an inflater.
    ///
    /// - Parameter outputChunkSize: The size of the decompressed chunks handed out (default 256 KiB).
    /// - Throws: ``BatchError`` (`decompression`) when zlib cannot be initialised.
    public init(outputChunkSize: Int = 256 * 1024) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = [UInt8](repeating: 0, count: max(1024, outputChunkSize))
        let rc = vem_inflate_init_auto(stream)
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw BatchError(.decompression, "zlib inflateInit2 failed (\(Self.describe(rc)))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Decompresses one chunk of compressed input.
    ///
    /// - Parameters:
    ///   - input: The next compressed bytes.
    ///   - body: Receives each decompressed chunk (valid only during the call).
    /// - Throws: ``BatchError`` (`decompression`) on corrupt data; errors thrown by `body` are rethrown.
    public func inflate(_ input: UnsafeRawBufferPointer, into body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        sawInput = true
        var offset = 0
        while offset < input.count {
            if ended {
                // Another gzip member follows the one that ended; skip trailing zero padding.
                if input[offset] == 0 {
                    offset += 1
                    continue
                }
                guard inflateReset(stream) == Z_OK else {
                    throw BatchError(.decompression, "zlib inflateReset failed")
                }
                ended = false
            }
            let available = min(input.count - offset, Int(UInt32.max))
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: base.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(available)
            try drain(body)
            let consumed = available - Int(stream.pointee.avail_in)
            offset += consumed
            totalIn += consumed
        }
    }

    /// Runs `inflate` until the current input is consumed or the member ends.
    private func drain(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let outSize = output.count
        while true {
            var rc: Int32 = Z_OK
            var produced = 0
            output.withUnsafeMutableBytes { out in
                stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(outSize)
                rc = CZlib.inflate(stream, Z_NO_FLUSH)
                produced = outSize - Int(stream.pointee.avail_out)
            }
            if produced > 0 {
                totalOut += produced
                try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            switch rc {
            case Z_STREAM_END:
                ended = true
                return
            case Z_OK:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
            case Z_BUF_ERROR:
                // No progress possible: more input is needed.
                return
            default:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? Self.describe(rc)
                throw BatchError(.decompression, "corrupt compressed data at input byte \(totalIn): \(detail)")
            }
        }
    }

    /// Checks that the input ended at the end of a complete stream.
    ///
    /// - Throws: ``BatchError`` (`decompression`) when the data is truncated or there was none.
    public func finish() throws {
        guard sawInput else { throw BatchError(.decompression, "no compressed data") }
        guard ended else {
            throw BatchError(.decompression, "compressed data is truncated after \(totalIn) bytes")
        }
    }

    private static func describe(_ rc: Int32) -> String {
        switch rc {
        case Z_MEM_ERROR: "out of memory"
        case Z_DATA_ERROR: "invalid data"
        case Z_STREAM_ERROR: "stream error"
        case Z_VERSION_ERROR: "zlib version mismatch"
        case Z_NEED_DICT: "a preset dictionary is needed"
        default: "zlib code \(rc)"
        }
    }
}

@available(*, unavailable)
extension GzipInflater: Sendable {}

/// One-shot helpers over ``GzipInflater``.
public enum Gzip {
    /// True when the bytes start with the gzip magic number (`1f 8b`).
    public static func isGzip(_ bytes: some Collection<UInt8>) -> Bool {
        var it = bytes.makeIterator()
        return it.next() == 0x1f && it.next() == 0x8b
    }

    /// Decompresses a whole gzip (or zlib) buffer.
    ///
    /// - Throws: ``BatchError`` (`decompression`) on corrupt or truncated data.
    public static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        let inflater = try GzipInflater()
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4)
        try bytes.withUnsafeBytes { input in
            try inflater.inflate(input) { out.append(contentsOf: $0) }
        }
        try inflater.finish()
        return out
    }
}
