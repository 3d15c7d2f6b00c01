import Testing
import VEMConfig
import VEMCore

@Suite struct IniReaderTests {
    func read(_ text: String) -> IniReadResult { IniReader.read(Array(text.utf8), file: "r.ini") }

    @Test func readsSectionsKeysAndLocations() throws {
        // An indented key after a blank line is a key (right after a value it would continue it).
        let result = read("# c\n; c\n[a]\nx = 1\n\n  y:two  \n[group:atlas]\nshare=40\n")
        #expect(result.diagnostics.isEmpty)
        let sections = result.document.sections
        #expect(sections.map(\.name) == ["a", "group:atlas"])
        #expect(sections[0].location == SourceLocation(file: "r.ini", line: 3, column: 1))
        #expect(sections[0].entries.map(\.key) == ["x", "y"])
        let y = try #require(sections[0].entry("y"))
        #expect(y.keyLocation == SourceLocation(file: "r.ini", line: 6, column: 3))
        #expect(y.value.text == "two")
        #expect(y.value.location == SourceLocation(file: "r.ini", line: 6, column: 5))
        #expect(sections[1].entry("share")?.value.text == "40")
    }

    @Test func continuationLinesAppendWithNewLines() {
        let result = read("[a]\nargs = one\n  two\n\t three\n# comment keeps it open\n  four\n\nb = 2\n")
        #expect(result.diagnostics.isEmpty)
        #expect(result.document.sections[0].entry("args")?.value.text == "one\ntwo\nthree\nfour")
        #expect(result.document.sections[0].entry("b")?.value.text == "2")
    }

    @Test func emptyValueTakesContinuationWithoutLeadingNewLine() {
        let result = read("[a]\nlist =\n  x\n  y\n")
        #expect(result.document.sections[0].entry("list")?.value.text == "x\ny")
    }

    @Test func keysAreCaseInsensitiveAndTheFirstDelimiterSplits() {
        let result = read("[a]\nURL = nats://h:4222\nk: v = w\n")
        #expect(result.document.sections[0].entry("url")?.value.text == "nats://h:4222")
        #expect(result.document.sections[0].entry("k")?.value.text == "v = w")
    }

    @Test func bracedValuesAreVerbatimWithTheirOrigin() throws {
        let text = "[t]\nexpr = {\n    len(x) > 0\n  and {\"a\": 1}[\"a\"] == 1\n}\ncmd = { \"}\" }\n"
        let result = read(text)
        #expect(result.diagnostics.isEmpty)
        let expr = try #require(result.document.sections[0].entry("expr")?.value)
        #expect(expr.isBraced)
        #expect(expr.text == "\n    len(x) > 0\n  and {\"a\": 1}[\"a\"] == 1\n")
        #expect(expr.location == SourceLocation(file: "r.ini", line: 2, column: 9))
        #expect(expr.sourceText.location(line: 2, column: 5) == SourceLocation(file: "r.ini", line: 3, column: 5))
        #expect(result.document.sections[0].entry("cmd")?.value.text == " \"}\" ")
    }

    @Test func nestedBracesStringsAndCommentsBalance() {
        let result = read("[t]\na = { {\"a\": 1} }\nb = { '}' + \"{\" }\nc = { x # } not the end\n}\nd = { '''}\n}''' }\n")
        #expect(result.diagnostics.isEmpty)
        let s = result.document.sections[0]
        #expect(s.entry("a")?.value.text == " {\"a\": 1} ")
        #expect(s.entry("b")?.value.text == " '}' + \"{\" ")
        #expect(s.entry("c")?.value.text == " x # } not the end\n")
        #expect(s.entry("d")?.value.text == " '''}\n}''' ")
    }

    @Test func unterminatedBraceIsReportedAndReadingResumes() {
        let result = read("[t]\nexpr = { a +\n    b\ncmd = { c }\n[u]\nk = v\n")
        #expect(result.diagnostics.map(\.message) == ["unterminated '{': no matching '}' before the end of the file"])
        #expect(result.diagnostics.first?.location == SourceLocation(file: "r.ini", line: 2, column: 8))
        #expect(result.document.sections[0].entry("cmd")?.value.text == " c ")
        #expect(result.document.sections.map(\.name) == ["t", "u"])
    }

    @Test func crlfAndBOMAreTolerated() {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("[a]\r\nk = v\r\nexpr = {\r\n x\r\n}\r\n".utf8)
        let result = IniReader.read(bytes, file: "r.ini")
        #expect(result.diagnostics.isEmpty)
        #expect(result.document.sections[0].location.column == 1)
        #expect(result.document.sections[0].entry("k")?.value.text == "v")
        #expect(result.document.sections[0].entry("expr")?.value.text == "\n x\n")
        #expect(!result.text.contains("\r"))
    }

    @Test func invalidUTF8IsReportedAtItsColumnOncePerLine() {
        let bytes = Array("[a]\nk = ab".utf8) + [0xFF, 0xFE] + Array("\nj = \u{e9}".utf8) + [0xC3]
        let result = IniReader.read(bytes, file: "r.ini")
        let locations = result.diagnostics.map { "\($0.location.line):\($0.location.column)" }
        #expect(locations == ["2:7", "3:6"])
        #expect(result.diagnostics.allSatisfy { $0.severity == .error && $0.message.contains("UTF-8") })
    }

    @Test func overlongAndSurrogateEncodingsAreInvalid() {
        for bad: [UInt8] in [[0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]] {
            let result = IniReader.read(Array("[a]\nk = ".utf8) + bad, file: "r.ini")
            #expect(result.diagnostics.count == 1)
        }
        let fine = IniReader.read(Array("[a]\nk = \u{1F600} \u{20AC}".utf8), file: "r.ini")
        #expect(fine.diagnostics.isEmpty)
        #expect(fine.document.sections[0].entry("k")?.value.text == "\u{1F600} \u{20AC}")
    }

    @Test func everyMistakeIsCollected() {
        let result = read("k = 1\n[]\n[a\n[b] x\n[c]\nnonsense\n= 3\nbad key = 1\nx = 1\nx = 2\n")
        #expect(result.diagnostics.filter { $0.severity == .error }.map(\.location.line) == [1, 2, 3, 4, 6, 7, 8, 10])
    }

    @Test func keysAfterABrokenHeaderAreNotOrphans() {
        let result = read("[a\nk = 1\n")
        #expect(result.diagnostics.map(\.message) == ["expected ']' to close the section header"])
    }

    @Test func pathologicalInputStaysLinear() {
        let long = "[a]\nk = " + String(repeating: "x", count: 1_000_000) + "\n"
        #expect(read(long).document.sections[0].entry("k")?.value.text.count == 1_000_000)
        let deep = "[a]\nexpr = " + String(repeating: "{", count: 100_000) + String(repeating: "}", count: 100_000)
        #expect(read(deep).diagnostics.isEmpty)
        let open = "[a]\nexpr = " + String(repeating: "{[(\"'", count: 50_000)
        #expect(read(open).diagnostics.count == 1)
        let lines = String(repeating: "[s]\nk = {\n", count: 20_000)
        #expect(read(lines).diagnostics.count >= 1)
    }
}
