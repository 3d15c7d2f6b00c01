import Foundation
import Testing

/// What a finished `vem` process left behind.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The repository root, found from this file's path.
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `vem` executable built beside the test bundle.
let vemExecutable: URL = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidate = dir.appendingPathComponent("vem")
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    return packageRoot.appendingPathComponent(".build/debug/vem")
}()

/// Runs `vem` with arguments and waits for it, off Swift's cooperative thread pool (which has only as
/// many threads as cores: blocking it would stall every other test); standard input is empty.
func runVEM(_ arguments: [String], currentDirectory: URL = packageRoot) async throws -> ProcessOutput {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try runVEMBlocking(arguments, currentDirectory: currentDirectory) })
        }
    }
}

private func runVEMBlocking(_ arguments: [String], currentDirectory: URL) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = vemExecutable
    process.arguments = arguments
    process.currentDirectoryURL = currentDirectory
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes to the end before waiting, so a chatty child never blocks on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self)
    )
}

/// A fresh scratch directory for one test, removed by the caller with `defer`.
func makeScratchDirectory(_ label: String = "vem-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
