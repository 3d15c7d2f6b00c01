import Logging

extension JSONLogHandler {
    /// Makes every logger write to standard error at `level` (`vem manager`, `vem agent`): one JSON object per
    /// line with `json`, else swift-log's text lines.
    public static func bootstrap(level: Logger.Level, json: Bool) {
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
