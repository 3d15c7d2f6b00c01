import Foundation

/// `vem demo --real-guest`: the real-guest scenario, each step timed — a QEMU guest built by
/// `scripts/build-guest-image` boots on a real libvirtd, its Client joins the Manager, its slurmd joins a real
/// Slurm controller, it runs its group's job, moves to a second libvirtd with a second job still running when
/// the operator drains its host (`vem host drain`), and goes away once the queue is empty.
///
/// Its harness (the Slurm controller, two libvirtds, the bridge, the guest image's site layer) is the end-to-end
/// test's, in the checkout's test targets, so this runs that test from the checkout `vem` was built in:
/// `swift test --skip-build --filter EndToEndTests.RealGuestTests` (after `swift build --build-tests`), as root
/// with the packages of `scripts/install-deps`, standard input closed, its output on ours.
public enum RealGuestDemo {
    /// The test it runs.
    public static let filter = "EndToEndTests.RealGuestTests"

    /// The checkout holding `path` (`vem`'s own path): the nearest folder at or above it with `Package.swift` and
    /// `scripts/build-guest-image`; nil when there is none.
    public static func checkout(containing path: String) -> String? {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        while url.path != "/" {
            let fm = FileManager.default
            if fm.fileExists(atPath: url.appendingPathComponent("Package.swift").path),
                fm.isExecutableFile(atPath: url.appendingPathComponent("scripts/build-guest-image").path)
            {
                return url.path
            }
            url.deleteLastPathComponent()
        }
        return nil
    }

    /// This process's executable (`/proc/self/exe`), else its first argument.
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The program and arguments run in the checkout.
    public static let command = ["/usr/bin/env", "swift", "test", "--skip-build", "--filter", filter]

    /// Why the demo cannot run.
    public struct Failure: Error, CustomStringConvertible {
        /// What is missing.
        public var description: String
    }

    /// Runs the scenario in the checkout holding this executable (else the current folder's); returns its exit
    /// status.
    /// - Throws: ``Failure`` when neither is in a checkout; an error when `swift` cannot be started.
    public static func run() throws -> Int32 {
        guard
            let root = checkout(containing: executablePath)
                ?? checkout(containing: FileManager.default.currentDirectoryPath)
        else {
            throw Failure(
                description: "vem demo --real-guest runs from VEM's checkout (it runs \(filter)): run it as "
                    + "root from the checkout, after scripts/install-deps and swift build --build-tests")
        }
        return try run(checkout: root)
    }

    /// Runs the scenario in `checkout`; returns its exit status.
    /// - Throws: When `swift` cannot be started.
    public static func run(checkout: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: checkout)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
