import Foundation
import Testing
import VEMDemo

/// `vem demo --real-guest` finds the checkout it runs the real-guest scenario in (the scenario itself is
/// `EndToEndTests.RealGuestTests`, in the heavy phase).
@Suite struct RealGuestDemoTests {
    /// This checkout (this file is Tests/DemoIntegrationTests/RealGuestDemoTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theCheckoutIsFoundFromTheExecutableAndNotOutsideOne() {
        #expect(RealGuestDemo.checkout(containing: Self.root + "/.build/debug/vem") == Self.root)
        #expect(RealGuestDemo.checkout(containing: Self.root + "/Sources/vem") == Self.root)
        #expect(RealGuestDemo.checkout(containing: "/proc/self") == nil)
    }

    @Test func itRunsTheRealGuestTestWithoutBuilding() {
        #expect(RealGuestDemo.command.suffix(4) == ["test", "--skip-build", "--filter", "EndToEndTests.RealGuestTests"])
    }
}
