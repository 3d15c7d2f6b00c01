import Testing
@testable import VEMCore

@Suite struct DiagnosticTests {
    @Test func rendersHeaderLineAndCaret() {
        var r = DiagnosticRenderer()
        r.addFile(named: "site.ini", contents: "[ram_free]\nticks = soon\n")
        let d = Diagnostic.error(at: SourceLocation(file: "site.ini", line: 2, column: 9), "'soon' is not an integer", length: 4)
        #expect(r.render(d) == "site.ini:2:9: error: 'soon' is not an integer\n    ticks = soon\n            ^~~~")
    }

    @Test func unknownFileRendersHeaderOnly() {
        let d = Diagnostic.warning(at: SourceLocation(file: "x.ini", line: 3, column: 1), "w")
        #expect(DiagnosticRenderer().render(d) == "x.ini:3:1: warning: w")
    }

    @Test func caretIsClampedToTheLine() {
        var r = DiagnosticRenderer()
        r.addFile(named: "f", contents: "ab")
        let d = Diagnostic.error(at: SourceLocation(file: "f", line: 1, column: 40), "eol", length: 10)
        #expect(r.render(d).hasSuffix("\n    ab\n      ^"))
    }

    @Test func sourceTextMapsPositionsIntoItsFile() {
        let t = SourceText(" len(x) != 0\n   and y ", origin: SourceLocation(file: "a.ini", line: 7, column: 9))
        #expect(t.location(line: 1, column: 2) == SourceLocation(file: "a.ini", line: 7, column: 10))
        #expect(t.location(line: 2, column: 4) == SourceLocation(file: "a.ini", line: 8, column: 4))
    }

    @Test func suggestionsFindTypos() {
        #expect(closestMatch(to: "tick", in: ["ticks", "command", "parameters"]) == "ticks")
        #expect(closestMatch(to: "zzzzzz", in: ["ticks", "command"]) == nil)
        #expect(editDistance("kitten", "sitting") == 3)
    }

    @Test func sortsByLocation() {
        let a = Diagnostic.error(at: SourceLocation(file: "f", line: 2, column: 1), "b")
        let b = Diagnostic.error(at: SourceLocation(file: "f", line: 1, column: 5), "a")
        #expect([a, b].sortedByLocation().map(\.message) == ["a", "b"])
        #expect([a, b].hasErrors)
    }
}

@Suite struct SuggestionTests {
    @Test func aSwapOfAdjacentLettersIsOneEdit() {
        #expect(editDistance("flaot", "float") == 1)
        #expect(closestMatch(to: "gruop", in: ["group", "command"]) == "group")
    }

    @Test func veryLongWordsGetNoSuggestion() {
        #expect(closestMatch(to: String(repeating: "a", count: 65), in: [String(repeating: "a", count: 64)]) == nil)
    }
}

@Suite struct DiagnosticOrderTests {
    @Test func notesStayWithTheirDiagnosticAndFilesKeepTheirOrder() {
        func at(_ f: String, _ l: Int) -> VEMCore.SourceLocation { VEMCore.SourceLocation(file: f, line: l, column: 1) }
        let list = [
            Diagnostic.error(at: at("b.ini", 9), "duplicate"),
            Diagnostic(.note, at: at("a.ini", 4), "first defined here"),
            Diagnostic.error(at: at("b.ini", 2), "early"),
            Diagnostic.warning(at: at("a.ini", 7), "in a"),
        ]
        let sorted = list.sortedByLocation(fileOrder: ["b.ini": 0, "a.ini": 1])
        #expect(sorted.map(\.message) == ["early", "duplicate", "first defined here", "in a"])
    }
}
