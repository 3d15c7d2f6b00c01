import ArgumentParser
import Foundation
import Logging
import VEMManager

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// How the long-running commands write their logs (`--log-format`).
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    /// swift-log's text lines.
    case text
    /// One JSON object per line (``VEMManager/JSONLogHandler``; secrets redacted).
    case json
}

/// Logs to standard error at `level` (the long-running commands: `manager`, `agent`).
func bootstrapLogging(_ level: Logger.Level, format: LogFormat = .text) {
    JSONLogHandler.bootstrap(level: level, json: format == .json)
}

/// Runs `body`; an error is printed as `error: …` and exits 1.
func orExit<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

/// Runs a library's check of options: its error becomes a usage error (the usage, then `Error: …`; exit 64).
func usage<T>(_ check: () throws -> T) throws -> T {
    do { return try check() } catch { throw ValidationError("\(error)") }
}

/// A library's problem with the options (nil: none) as a usage error.
func usage(_ problem: String?) throws { if let problem { throw ValidationError(problem) } }
