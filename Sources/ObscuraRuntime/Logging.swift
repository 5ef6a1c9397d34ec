// Structured logs through swift-log: one line per event, `key=value` metadata, to stderr so
// that reports on stdout stay machine-readable.

public import Logging

public enum ObscuraLogging {
    /// Sets up swift-log once per process at the given level name.
    public static func bootstrap(level: String) {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
    }

    public static func logger(_ label: String = "obscura") -> Logger {
        Logger(label: label)
    }
}
