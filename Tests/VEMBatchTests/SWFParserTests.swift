import Testing
import VEMCore

@testable import VEMBatch

@Suite struct SWFParserTests {
    static let small = """
        ; Version: 2.2
        ; Computer: IBM SP2
        ; UnixStartTime: 843480031
        ; MaxProcs: 100
        ; Partition:  1 grid.ici.ro
        ; Partition:  2 lancs.ac.uk
        ;       The filter used to produce it was
        ;
           15   599850 192180   3477    4     -1    -1    4  53940    -1  1  12  12  -1 -1 -1 -1 -1
           16   600022  11940   2488   25  12.5  1024.25   25   3600    -1  1  13  13  -1 -1 -1 -1 -1

        """

    @Test func readsFieldsAndHeader() {
        let trace = SWFReader.parse(text: Self.small, name: "kth.swf")
        #expect(trace.jobs.count == 2)
        #expect(trace.badLineCount == 0)
        #expect(trace.lineCount == 10)
        #expect(trace.header.unixStartTime == 843_480_031)
        #expect(trace.header.maxProcs == 100)
        #expect(trace.header.computer == "IBM SP2")
        #expect(trace.header.values(of: "Partition") == ["1 grid.ici.ro", "2 lancs.ac.uk"])
        #expect(trace.header.notes == ["The filter used to produce it was"])
        let j = trace.jobs[1]
        #expect(j.jobNumber == 16 && j.submitTime == 600_022 && j.waitTime == 11_940 && j.runTime == 2488)
        #expect(j.allocatedProcessors == 25 && j.averageCPUTime == 12.5 && j.usedMemory == 1024.25)
        #expect(j.requestedProcessors == 25 && j.requestedTime == 3600 && j.requestedMemory == -1)
        #expect(j.status == 1 && j.userID == 13 && j.groupID == 13 && j.thinkTime == -1)
        #expect(trace.jobs[0].processors == 4)
        #expect(trace.span?.start == 599_850)
        #expect(trace.span?.end == 599_850 + 192_180 + 3477)
    }

    @Test func badLinesAreCountedWithTheirLineNumbersAndSkipped() {
        let text = """
            ; MaxProcs: 4
            1 0 -1 10 1 -1 -1 1 20 -1 1 1 1 -1 -1 -1 -1 -1
            2 5 -1 10 1 -1 -1 1 20 -1 1 1 1 -1 -1 -1
            3 6 -1 x10 1 -1 -1 1 20 -1 1 1 1 -1 -1 -1 -1 -1
            4 7 -1 10 1 -1 -1 1 20 -1 1 1 1 -1 -1 -1 -1 -1 99
            5 8 -1 10 1 -1 -1 1 20 -1 1 1 1 -1 -1 -1 -1 -
            6 9 -1 10 1 -1 -1 1 20 -1 1 1 1 -1 -1 -1 -1 1234567890123456789012
            7 9 -1 10 1 -1 -1 1 20 -1 1 1 1 -1 -1 -1 -1 -1\r
            """
        let trace = SWFReader.parse(text: text, name: "t.swf")
        #expect(trace.jobs.map(\.jobNumber) == [1, 7])
        #expect(trace.badLineCount == 5)
        #expect(trace.diagnostics.map(\.location.line) == [3, 4, 5, 6, 7])
        #expect(trace.diagnostics.allSatisfy { $0.severity == .warning })
        #expect(trace.diagnostics[0].description == "t.swf:3:41: warning: expected 18 fields, found 16; line skipped")
        #expect(trace.diagnostics[1].description == "t.swf:4:8: warning: field 4 is not a number: 'x10'; line skipped")
        #expect(trace.diagnostics[2].message.hasPrefix("more than 18 fields"))
        #expect(trace.diagnostics[3].message.hasPrefix("field 18 is not a number: '-'"))
        #expect(trace.diagnostics[4].message.hasPrefix("field 18 is too large"))
    }

    @Test func linesMaySpanChunksOfAnySize() {
        let bytes = Array(Self.small.utf8)
        let whole = SWFReader.parse(text: Self.small)
        for size in [1, 2, 7, 64] {
            var parser = SWFParser(name: "<trace>")
            var i = 0
            while i < bytes.count {
                parser.consume(Array(bytes[i..<min(bytes.count, i + size)]))
                i += size
            }
            #expect(parser.finish() == whole, "chunk size \(size)")
        }
    }

    @Test func garbageNeverCrashesAndOnlyCountsBadLines() {
        var bytes: [UInt8] = []
        var x: UInt32 = 12345
        for _ in 0..<20_000 {
            x = x &* 1_103_515_245 &+ 12345
            bytes.append(UInt8(truncatingIfNeeded: x >> 16))
        }
        let trace = (try? SWFReader.parse(bytes, name: "noise")) ?? SWFTrace(name: "failed")
        #expect(trace.name == "noise")
        #expect(trace.diagnostics.count <= SWFParser.maxDiagnostics)
        #expect(trace.badLineCount >= trace.diagnostics.count)
    }

    @Test func emptyInputIsAnEmptyTrace() {
        let trace = SWFReader.parse(text: "")
        #expect(trace.jobs.isEmpty && trace.badLineCount == 0 && trace.lineCount == 0 && trace.span == nil)
    }
}
