// `obscura run`: the firmware's main job, under a board's budget, reporting per-stage latency.

import ArgumentParser
import Capture
import Foundation
import ObscuraRuntime
import Redaction

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

    @Option(help: ArgumentHelp("What to mask: foreground (everything that moves, plus detections) or detections. Default: the config's, else foreground.", valueName: "policy"))
    var policy: String?

    @Option(help: ArgumentHelp("How to mask: pixelate, blur or fill. Default: the config's, else pixelate.", valueName: "method"))
    var method: String?

    @Option(name: .customLong("control"), help: ArgumentHelp("Set a V4L2 camera control when the device opens, e.g. brightness=128, exposure=300, power_line_frequency=\"50 Hz\". Repeat for more. `obscura cameras` lists a device's controls.", valueName: "name=value"))
    var controls: [String] = []

    func validate() throws {
        if let frames, frames <= 0 { throw ValidationError("--frames must be a positive number, not \(frames).") }
        if let budgetMs, !(budgetMs > 0) { throw ValidationError("--budget-ms must be a positive number of milliseconds.") }
        try validateRedactionChoice(policy: policy, method: method)
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
        options.policy = policy
        options.method = method.flatMap(RedactionMethod.init(rawValue:))
        return options
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the firmware on a camera as the given board, and report per-stage latency.",
        discussion: """
            Frames are delivered at the camera's rate, analysed within the board's per-frame budget, \
            redacted, and written to the outputs asked for: a redacted MJPEG stream (--output) and \
            snapshots (--snapshots). With no output nothing is kept and the run reports statistics only. \
            Only redacted frames are ever written (DESIGN.md, invariant 2). Stop with Ctrl-C: the frame \
            in hand is finished, the outputs are closed and the report printed.

            Examples:
              obscura run --camera pattern:640x480@10 --board rpi-4b --frames 100
              obscura run --camera file:Fixtures/vtest_640x480.mjpeg?fps=10 --board rpi-zero-2w
              obscura run --config config/obscura.yaml --output /tmp/redacted.mjpeg --snapshots /tmp/snapshots
            """
    )

    @OptionGroup var pipeline: PipelineOptions

    @Option(help: ArgumentHelp("Write the redacted frames as an MJPEG stream (with OUTPUT.index beside it). Default: the config's output.mjpeg, else none.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Write a redacted JPEG snapshot into this folder every output.snapshots.intervalSeconds (default 10 s). Default: the config's, else none.", valueName: "folder"))
    var snapshots: String?

    @Flag(name: .customLong("free-running"), help: "Ignore the camera's frame rate and process frames as fast as possible.")
    var freeRunning = false

    @Flag(name: .customLong("busy-wait"), help: ArgumentHelp(
        "Keep the CPU busy between frames instead of sleeping (virtual cameras).",
        discussion: "For emulating a board on a host that slows down while idle (a VM, a laptop saving power): paced runs there report every stage slower than the board's cost factors assume, and the emulated board masks more. Costs one busy core."))
    var busyWait = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. Default: the config's, else info.", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if busyWait && freeRunning { throw ValidationError("--busy-wait and --free-running exclude each other: a free-running run does not wait.") }
        if let logLevel, !ObscuraConfig.logLevels.contains(logLevel) {
            throw ValidationError("--log-level must be one of \(ObscuraConfig.logLevels.joined(separator: ", ")).")
        }
    }

    func run() throws {
        var options = pipeline.runOptions(pacing: freeRunning ? .freeRunning : busyWait ? .nominalBusy : .nominal)
        options.outputPath = output
        options.snapshotFolder = snapshots
        let config = try orExit { () throws(SessionError) in try Session.loadConfig(options) }
        ObscuraLogging.bootstrap(level: logLevel ?? config.logLevel)
        Shutdown.install()
        let session = try orExit { () throws(SessionError) in try Session.open(options, config: config) }
        let interval = Duration.milliseconds(Int64(config.statsIntervalSeconds * 1000))
        let report = try orExit { () throws(CaptureError) in try session.pipeline.run(frameLimit: pipeline.frames, statsInterval: interval) }
        print(json ? report.json() : report.table())
    }
}

/// Checks `--policy` and `--method` (shared by `run`, `bench` and `redact`).
func validateRedactionChoice(policy: String?, method: String?) throws {
    if let policy, RedactionSettings.policy(named: policy, margin: 0.3) == nil {
        throw ValidationError("--policy must be \(RedactionSettings.policyNames.joined(separator: " or ")), not '\(policy)'.")
    }
    if let method, RedactionMethod(rawValue: method) == nil {
        throw ValidationError("--method must be one of \(RedactionMethod.allCases.map(\.rawValue).joined(separator: ", ")), not '\(method)'.")
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
