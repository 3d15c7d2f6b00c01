import Testing
import VEMCore

/// Ages and uptimes in `vem status` and `vem props`: human units, never `5458ms`.
@Suite struct FormatAgeTests {
    @Test(arguments: [
        (0.25, "250ms"), (5.458, "5.5s"), (59.94, "59.9s"), (184, "3m4s"), (7_260, "2h1m"), (90_061, "1d1h"),
    ])
    func ages(_ seconds: Double, _ text: String) {
        #expect(formatAge(seconds) == text)
    }
}
