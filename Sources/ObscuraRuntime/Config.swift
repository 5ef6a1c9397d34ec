// The config file: a commented YAML document, validated with errors naming the file, line,
// key and reason. Every key is optional; the command line overrides what the file says.

public import Boards
public import Capture
import Foundation

/// Settings for one run of the firmware.
public struct ObscuraConfig: Sendable, Equatable {
    /// Camera spec, e.g. `pattern:640x480@30` or `file:Fixtures/vtest_640x480.mjpeg?fps=10`.
    public var camera: String?
    /// V4L2 controls to set when the camera opens (and reopens), as name and value, in order.
    public var controls: [V4L2ControlSetting] = []
    /// Board profile name, e.g. `rpi-4b`.
    public var board: String?
    /// Folder of board profiles, when not the default.
    public var boardsDirectory: String?
    /// Overrides the board's per-frame analysis budget, in milliseconds.
    public var budgetMs: Double?
    /// Frames per pool (frames that may be in flight at once per stage).
    public var poolSize: Int = 4
    /// swift-log level name.
    public var logLevel: String = "info"
    /// Seconds between statistics reports while running; 0 reports only at the end.
    public var statsIntervalSeconds: Double = 10
    /// Motion, detectors, tracking and counting.
    public var analysis = AnalysisSettings()
    /// What is masked and how.
    public var redaction = RedactionSettings()
    /// Where redacted frames go; nothing is written when no output is set.
    public var output = OutputSettings()

    public init() {}

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Reads and validates a config file.
    public static func load(file: String) throws(SettingsError) -> ObscuraConfig {
        guard FileManager.default.fileExists(atPath: file) else {
            throw SettingsError(file: file, key: "", reason: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw SettingsError(file: file, key: "", reason: "cannot read the file (unreadable or not UTF-8)")
        }
        return try parse(text, file: file)
    }

    /// Parses and validates config text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(SettingsError) -> ObscuraConfig {
        var config = ObscuraConfig()
        // An all-comment file is a valid, empty config.
        let meaningful = text.split(separator: "\n").contains { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && !trimmed.hasPrefix("#")
        }
        guard meaningful else { return config }
        let root = try SettingsMapping.parse(text, file: file)
        try root.rejectUnknownKeys(["camera", "controls", "board", "boardsDir", "budgetMs", "pipeline", "logging", "stats", "analysis", "redaction", "output"])
        config.camera = try root.optionalString("camera")
        if let controls = try root.optionalMapping("controls") {
            config.controls = try controls.scalarPairs().map { V4L2ControlSetting(name: $0.name, value: $0.value) }
        }
        config.board = try root.optionalString("board")
        config.boardsDirectory = try root.optionalString("boardsDir")
        config.budgetMs = try root.optionalDouble("budgetMs", in: 0.1...10_000)
        if let pipeline = try root.optionalMapping("pipeline") {
            try pipeline.rejectUnknownKeys(["poolSize"])
            config.poolSize = try pipeline.optionalInt("poolSize", in: 2...64) ?? config.poolSize
        }
        if let logging = try root.optionalMapping("logging") {
            try logging.rejectUnknownKeys(["level"])
            if let level = try logging.optionalString("level") {
                guard logLevels.contains(level) else {
                    throw SettingsError(file: file, line: logging.value("level")?.mark?.line, key: "logging.level",
                                        reason: "'\(level)' is not a log level; expected one of \(logLevels.joined(separator: ", "))")
                }
                config.logLevel = level
            }
        }
        if let stats = try root.optionalMapping("stats") {
            try stats.rejectUnknownKeys(["intervalSeconds"])
            config.statsIntervalSeconds = try stats.optionalDouble("intervalSeconds", in: 0...86_400) ?? config.statsIntervalSeconds
        }
        if let analysis = try root.optionalMapping("analysis") {
            config.analysis = try AnalysisSettings.parse(analysis)
        }
        if let redaction = try root.optionalMapping("redaction") {
            config.redaction = try RedactionSettings.parse(redaction)
        }
        if let output = try root.optionalMapping("output") {
            config.output = try OutputSettings.parse(output)
        }
        return config
    }
}
