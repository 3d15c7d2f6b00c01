import Foundation
import Testing

@testable import VEMBatch

@Suite struct GzipTests {
    /// `Fixtures/tiny.swf.gz`, made once with `gzip -n -9`: 6 header lines, 3 jobs and one broken line.
    static func fixturePath() throws -> String {
        let url = try #require(
            Bundle.module.url(forResource: "tiny.swf", withExtension: "gz", subdirectory: "Fixtures"))
        return url.path
    }

    @Test func readsAGzipTraceFromDisk() throws {
        let trace = try SWFReader.read(path: try Self.fixturePath(), name: "tiny.swf.gz")
        #expect(trace.jobs.map(\.jobNumber) == [1, 2, 3])
        #expect(trace.header.maxProcs == 8)
        #expect(trace.header.unixStartTime == 1_000_000_000)
        #expect(trace.header.notes.isEmpty)
        #expect(trace.header["Note"] == "a fixture for the gzip path")
        #expect(trace.badLineCount == 1)
        #expect(
            trace.diagnostics.first?.description
                == "tiny.swf.gz:9:1: warning: field 1 is not a number: 'this'; line skipped")
        #expect(trace.jobs[1].processors == 1)
    }

    @Test func decompressesInMemoryAndConcatenatedMembers() throws {
        let gz = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Self.fixturePath())))
        #expect(Gzip.isGzip(gz))
        let once = try Gzip.decompress(gz)
        #expect(String(decoding: once, as: UTF8.self).hasPrefix("; Version: 2.2\n"))
        // Two gzip members back to back decompress to the text twice (as `gzip -d` does).
        let twice = try Gzip.decompress(gz + gz)
        #expect(twice == once + once)
        let trace = try SWFReader.parse(gz + gz)
        #expect(trace.jobs.count == 6)
    }

    @Test func feedingOneByteAtATimeGivesTheSameBytes() throws {
        let gz = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Self.fixturePath())))
        let inflater = try GzipInflater(outputChunkSize: 1024)
        var out: [UInt8] = []
        for b in gz { try [b].withUnsafeBytes { try inflater.inflate($0) { out.append(contentsOf: $0) } } }
        try inflater.finish()
        #expect(out == (try Gzip.decompress(gz)))
        #expect(inflater.totalIn == gz.count && inflater.totalOut == out.count)
    }

    @Test func truncatedAndCorruptDataAreErrors() throws {
        let gz = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Self.fixturePath())))
        let truncated = #expect(throws: BatchError.self) { try Gzip.decompress(Array(gz.prefix(gz.count / 2))) }
        #expect(truncated?.code == .decompression)
        var corrupt = gz
        for i in 12..<40 { corrupt[i] ^= 0x5a }
        let bad = #expect(throws: BatchError.self) { try Gzip.decompress(corrupt) }
        #expect(bad?.code == .decompression)
        let empty = #expect(throws: BatchError.self) { try Gzip.decompress([]) }
        #expect(empty?.code == .decompression)
    }

    @Test func aMissingFileIsAnIOError() {
        let e = #expect(throws: BatchError.self) { try SWFReader.read(path: "/nonexistent/trace.swf.gz") }
        #expect(e?.code == .io)
    }
}
