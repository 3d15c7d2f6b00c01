import Testing
import VEMCore

/// The Foundation-free text helpers the guest's agent links instead of Foundation (issue 21): each gives what
/// Foundation's `String(format:)`, `DateFormatter`, `NSString` paths and `trimmingCharacters(in:)` gave.
@Suite struct FoundationFreeTextTests {
    @Test func cFormatMatchesPrintf() {
        #expect(cFormat("%.1fs", 5.458) == "5.5s")
        #expect(cFormat("%6.2f %%", 12.345) == " 12.35 %")
        #expect(cFormat("%02x", UInt8(10)) == "0a")
        #expect(cFormat("%ld items", 3) == "3 items")
    }

    @Test func cFormatGrowsPastItsFirstBuffer() {
        let long = cFormat("%0200d", Int32(42))
        #expect(long.count == 200)
        #expect(long.hasSuffix("00042"))
    }

    @Test(arguments: [
        (0.0, "1970-01-01 00:00:00"), (1_796_547_004.9, "2026-12-06 08:50:04"), (951_782_400, "2000-02-29 00:00:00"),
    ])
    func timesInUTC(_ seconds: Double, _ text: String) {
        #expect(formatTime(seconds) == text)
    }

    @Test func noTimeIsADash() {
        #expect(formatTime(nil) == "-")
        #expect(formatTime(.nan) == "-")
    }

    @Test(arguments: [
        ("/etc/vem", "ca.pem", "/etc/vem/ca.pem"), ("/etc/vem/", "ca.pem", "/etc/vem/ca.pem"), ("", "ca.pem", "ca.pem"),
        ("/", "etc", "/etc"), ("ca", "", "ca"),
    ])
    func joinedPaths(_ directory: String, _ name: String, _ path: String) {
        #expect(joinPath(directory, name) == path)
    }

    @Test(arguments: [("/a/b.swf", "b.swf"), ("/a/b/", "b"), ("b.swf", "b.swf"), ("/", "/"), ("", "")])
    func lastComponents(_ path: String, _ last: String) {
        #expect(lastPathComponent(path) == last)
    }

    @Test func trimmingWhitespace() {
        #expect(" \t 42 \n".trimmingWhitespace() == "42")
        #expect(" 42 \n".trimmingWhitespace(newlines: false) == "42 \n")
        #expect("a b".trimmingWhitespace() == "a b")
        #expect(" \n ".trimmingWhitespace() == "")
        #expect("x, y"[...].split(separator: ",")[1].trimmingWhitespace(newlines: false) == "y")
    }
}
