// `obscura run`: the firmware's main job, under a board's budget, reporting per-stage latency.

import ArgumentParser
import Capture
import Foundation
import ObscuraRuntime

/// Options shared by `run` and `bench`.
struct PipelineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Camera spec: pattern:WxH@FPS, file:PATH[?fps=N&loop=true], or /dev/videoN. See `obscura cameras`. Default: the config's camera, else \(Session.defaultCamera).", valueName: "spec"))
    var camera: String?

    @Option(help: ArgumentHelp("Board profile to emulate. See `obscura boards`. Default: the config's board, else \(Session.defaultBoard).", valueName: "name"))
    var board: String?

    @Option(name: .customLong("boards-dir"), help: ArgumentHelp("Folder of board profiles.", valueName: "folder"))
    var boardsDirectory: String?

    @Option(help: ArgumentHelp("Config file (YAML). See config/obscura.yaml for every key.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("budget-ms"), help: ArgumentHelp("Per-frame analysis budget in milliseconds, overriding the board's.", valueName: "ms"))
    var budgetMs: Double?

    @Option(help: ArgumentHelp("Stop after this many frames.", valueName: "count"))
    var frames: Int?

    @Option(name: .customLong("control"), help: ArgumentHelp("Set a V4L2 camera control when the device opens, e.g. brightness=128, exposure=300, power_line_frequency=\"50 Hz\". Repeat for more. `obscura cameras` lists a device's controls.", valueName: "name=value"))
    var controls: [String] = []

    func validate() throws {
        if let frames, frames <= 0 { throw ValidationError("--frames must be a positive number, not \(frames).") }
        if let budgetMs, !(budgetMs > 0) { throw ValidationError("--budget-ms must be a positive number of milliseconds.") }
        for control in controls where !control.contains("=") || control.hasPrefix("=") {
            throw ValidationError("--control takes name=value (e.g. brightness=128), not '\(control)'.")
        }
    }

    func runOptions(pacing: Pacing) -> RunOptions {
        var options = RunOptions()
        options.camera = camera
        options.board = board
        options.boardsDirectory = boardsDirectory
        options.configFile = config
        options.budgetMs = budgetMs
        options.pacing = pacing
        options.controls = controls
        return options
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the firmware on a camera as the given board, and report per-stage latency.",
        discussion: """
            Frames are delivered at the camera's rate, analysed within the board's per-frame budget and \
            reported as statistics. No pixels are written anywhere until the redaction stage exists \
            (DESIGN.md, invariant 2). Stop with Ctrl-C: the frame in hand is finished and the report printed.

            Examples:
              obscura run --camera pattern:640x480@30 --board rpi-4b --frames 300
              obscura run --camera file:Fixtures/vtest_640x480.mjpeg?fps=10 --board rpi-zero-2w
            """
    )

    @OptionGroup var pipeline: PipelineOptions

    @Flag(name: .customLong("free-running"), help: "Ignore the camera's frame rate and process frames as fast as possible.")
    var freeRunning = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. Default: the config's, else info.", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if let logLevel, !ObscuraConfig.logLevels.contains(logLevel) {
            throw ValidationError("--log-level must be one of \(ObscuraConfig.logLevels.joined(separator: ", ")).")
        }
    }

    func run() throws {
        let options = pipeline.runOptions(pacing: freeRunning ? .freeRunning : .nominal)
        let config = try orExit { () throws(SessionError) in try Session.loadConfig(options) }
        ObscuraLogging.bootstrap(level: logLevel ?? config.logLevel)
        Shutdown.install()
        let session = try orExit { () throws(SessionError) in try Session.open(options, config: config) }
        let interval = Duration.milliseconds(Int64(config.statsIntervalSeconds * 1000))
        let report = try orExit { () throws(CaptureError) in try session.pipeline.run(frameLimit: pipeline.frames, statsInterval: interval) }
        print(json ? report.json() : report.table())
    }
}

/// Prints a user-facing error and exits 1, instead of argument-parser's generic handling,
/// so errors read "obscura: camera: Fixtures/x.mjpeg: no such file or folder".
func orExit<Value, Failure: Error>(_ body: () throws(Failure) -> Value) throws -> Value {
    do {
        return try body()
    } catch {
        FileHandle.standardError.write(Data("obscura: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
