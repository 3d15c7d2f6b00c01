import ArgumentParser
import Foundation
import Logging
import VEMCore
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
    LoggingSystem.bootstrap { label in
        switch format {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        case .json:
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
