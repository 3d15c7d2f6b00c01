#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads SWF traces from files (plain or gzip-compressed) and from memory.
///
/// Files are read in chunks and, when they start with the gzip magic number, decompressed by
/// ``GzipInflater`` on the fly, so neither the compressed nor the decompressed text is held whole.
public enum SWFReader {
    /// Parses SWF text held in memory (plain, or gzip when it starts with the gzip magic number).
    ///
    /// - Parameters:
    ///   - bytes: The file's bytes.
    ///   - name: The file name used in diagnostics.
    /// - Throws: ``BatchError`` (`decompression`) when gzip data is corrupt; bad lines never throw.
    public static func parse(_ bytes: [UInt8], name: String = "<trace>") throws -> SWFTrace {
        var parser = SWFParser(name: name)
        if Gzip.isGzip(bytes) {
            let inflater = try GzipInflater()
            try bytes.withUnsafeBytes { try inflater.inflate($0) { parser.consume($0) } }
            try inflater.finish()
        } else {
            parser.consume(bytes)
        }
        return parser.finish()
    }

    /// Parses SWF text.
    ///
    /// - Parameters:
    ///   - text: The trace's text.
    ///   - name: The file name used in diagnostics.
    public static func parse(text: String, name: String = "<trace>") -> SWFTrace {
        var parser = SWFParser(name: name)
        parser.consume(Array(text.utf8))
        return parser.finish()
    }

    /// Reads a trace file, decompressing it when it is gzip.
    ///
    /// - Parameters:
    ///   - path: The file's path.
    ///   - name: The name used in diagnostics (default: the path).
    /// - Throws: ``BatchError`` (`io` when the file cannot be read, `decompression` when it is corrupt).
    public static func read(path: String, name: String? = nil) throws -> SWFTrace {
        var parser = SWFParser(name: name ?? path)
        var inflater: GzipInflater?
        var first = true
        try readChunks(path: path) { chunk in
            if first {
                first = false
                if Gzip.isGzip(chunk) { inflater = try GzipInflater(outputChunkSize: 1 << 20) }
            }
            if let inflater {
                try inflater.inflate(chunk) { parser.consume($0) }
            } else {
                parser.consume(chunk)
            }
        }
        try inflater?.finish()
        return parser.finish()
    }

    /// Calls `body` with successive chunks of a file until its end.
    static func readChunks(
        path: String, chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw BatchError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BatchError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}

/// The POSIX `read(2)` (a file-scope name, so that it is not shadowed by ``SWFReader/read(path:name:)``).
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
